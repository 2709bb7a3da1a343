//! maa-core (work in progress)
