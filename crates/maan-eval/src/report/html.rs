//! The page: a fixed HTML skeleton with the stylesheet (`page.css`) and the script
//! (`page.js`) inline, and the [`ReportData`] as JSON in a `<script type="application/json">`
//! element that the script reads and draws. A Content-Security-Policy of `default-src 'none'`
//! forbids every request, so the page works offline and cannot leak anything.

use super::ReportData;
use crate::error::{EvalError, Result};

const CSS: &str = include_str!("page.css");
const JS: &str = include_str!("page.js");

/// Escapes text for HTML element content and attribute values.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The report page of `data`: one self-contained HTML document.
///
/// The JSON is embedded with every `<` written as `\u003c` (valid JSON, and no `</script>` can
/// end the element early), so [`embedded_json`] gives back exactly `serde_json::to_string(data)`
/// once parsed.
///
/// # Errors
/// [`EvalError::Json`] if the data cannot be serialized.
pub fn render_html(data: &ReportData) -> Result<String> {
    let json = serde_json::to_string(data).map_err(|e| EvalError::json("report data", &e))?;
    let json = json.replace('<', "\\u003c");
    let names: Vec<&str> = data.runs.iter().map(|r| r.name.as_str()).collect();
    let title = escape(&format!("maan report: {}", names.join(" vs ")));
    let mut page = String::with_capacity(json.len() + CSS.len() + JS.len() + 1024);
    page.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    page.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    page.push_str(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n",
    );
    page.push_str(&format!(
        "<title>{title}</title>\n<style>\n{CSS}</style>\n</head>\n<body>\n"
    ));
    page.push_str(&format!(
        "<main id=\"app\"><h1>{title}</h1><noscript>This report draws itself with JavaScript; \
         its numbers are also in the JSON of the script element below.</noscript></main>\n"
    ));
    page.push_str("<script type=\"application/json\" id=\"report-data\">");
    page.push_str(&json);
    page.push_str("</script>\n<script>\n");
    page.push_str(JS);
    page.push_str("</script>\n</body>\n</html>\n");
    Ok(page)
}

/// The JSON text embedded in a page made by [`render_html`] (`None` if there is none).
pub fn embedded_json(page: &str) -> Option<&str> {
    const OPEN: &str = "<script type=\"application/json\" id=\"report-data\">";
    let start = page.find(OPEN)? + OPEN.len();
    let len = page[start..].find("</script>")?;
    Some(&page[start..start + len])
}
