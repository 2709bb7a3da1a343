#!/usr/bin/env python3
"""The PyTorch + OpenCV feature-extraction pipeline that `maan bench extract` is compared with.

    python pytorch_extract_anchor.py --video clip.mp4 --i3d /path/to/pytorch-i3d/pytorch_i3d.py \
        [--weights-rgb rgb_imagenet.pt --weights-flow flow_imagenet.pt] [--json out.json] \
        [--device cuda] [--flow cuda]

needs torch, numpy and OpenCV with the contrib modules (`pip install torch numpy
opencv-contrib-python-headless`). The pytorch-i3d source (piergiaj/pytorch-i3d) is not copied
here: pass the path of its `pytorch_i3d.py`. Without checkpoints the networks keep their random
initialisation: the work, and so the speed, is the same.

It does what the public THUMOS14 / ActivityNet I3D features did and what `maan extract` does:
decode the video with OpenCV (the frames as decoded; the benchmark clip is 25 fps), resize the
shorter side to 256 (bilinear), TV-L1 flow (`cv2.optflow.DualTVL1OpticalFlow_create()`, OpenCV's
defaults) between consecutive resized grayscale frames, clip to [-20, 20] and scale to [-1, 1],
crop the centre 224x224, and run pytorch-i3d's `extract_features` on every 16-frame chunk of
RGB (scaled to [-1, 1]) and of flow, averaged to one 1024-d feature per chunk and stream.

It times the whole pipeline (chunk by chunk, twice: cold and warm) and each stage apart
(decoding with resizing; TV-L1; each network), prints one line and writes JSON with the same
keys as `maan bench extract --json`'s rows. `extract_side_by_side.sh` runs both on one clip.

`--device cuda` runs the networks on the GPU (TV-L1 stays OpenCV's CPU one, as the public
features were made); `--flow cuda` computes TV-L1 with OpenCV's CUDA `OptFlow_DualTVL1`
instead, where the OpenCV build has CUDA (pip's wheels do not: an error then).
"""

import argparse
import importlib.util
import json
import os
import time

import cv2
import numpy as np
import torch

CHUNK, CROP, SHORT = 16, 224, 256


def load_module(path):
    spec = importlib.util.spec_from_file_location("pytorch_i3d", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def decode(path):
    """RGB frames (uint8, H x W x 3), shorter side resized to 256."""
    cap = cv2.VideoCapture(path)
    if not cap.isOpened():
        raise SystemExit(f"{path}: OpenCV cannot open the video")
    frames = []
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        h, w = bgr.shape[:2]
        if h < w:
            size = (round(w * SHORT / h), SHORT)
        else:
            size = (SHORT, round(h * SHORT / w))
        bgr = cv2.resize(bgr, size, interpolation=cv2.INTER_LINEAR)
        frames.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    cap.release()
    return frames


def centre(a):
    h, w = a.shape[:2]
    y0, x0 = (h - CROP) // 2, (w - CROP) // 2
    return a[y0 : y0 + CROP, x0 : x0 + CROP]


class CudaTvl1:
    """OpenCV's CUDA TV-L1 with the `calc(a, b, None)` of the CPU one (frames uploaded, the
    flow downloaded)."""

    def __init__(self):
        if not hasattr(cv2, "cuda") or cv2.cuda.getCudaEnabledDeviceCount() == 0:
            raise SystemExit("--flow cuda: this OpenCV has no CUDA (or sees no GPU)")
        self.tvl1 = cv2.cuda_OpticalFlowDual_TVL1.create()

    def calc(self, a, b, _):
        ga, gb = cv2.cuda_GpuMat(), cv2.cuda_GpuMat()
        ga.upload(a.astype(np.float32))
        gb.upload(b.astype(np.float32))
        return self.tvl1.calc(ga, gb, None).download()


def flows_of(tvl1, grays):
    """TV-L1 flow between consecutive frames, clipped and scaled, centre-cropped: [n-1, 224, 224, 2]."""
    out = []
    for a, b in zip(grays[:-1], grays[1:]):
        f = tvl1.calc(a, b, None)
        out.append(centre(np.clip(f, -20.0, 20.0) / 20.0))
    return out


DEVICE = torch.device("cpu")


def sync():
    if DEVICE.type == "cuda":
        torch.cuda.synchronize()


def rgb_input(frames):
    x = np.stack([centre(f) for f in frames]).astype(np.float32) / 127.5 - 1.0  # T H W 3
    return torch.from_numpy(x).permute(3, 0, 1, 2).unsqueeze(0).contiguous().to(DEVICE)


def flow_input(flows):
    x = np.stack(flows).astype(np.float32)  # T H W 2
    return torch.from_numpy(x).permute(3, 0, 1, 2).unsqueeze(0).contiguous().to(DEVICE)


def feature(model, x):
    with torch.no_grad():
        return model.extract_features(x).mean(dim=(2, 3, 4)).squeeze(0).cpu().numpy()


def whole(path, rgb_net, flow_net, tvl1):
    """The pipeline chunk by chunk: features [chunks, 1024] per stream."""
    frames = decode(path)
    grays = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames]
    chunks = len(frames) // CHUNK
    rgb, flow = [], []
    for c in range(chunks):
        lo, hi = c * CHUNK, min((c + 1) * CHUNK + 1, len(frames))
        fl = flows_of(tvl1, grays[lo:hi])
        if len(fl) < CHUNK:
            fl.append(fl[-1])
        rgb.append(feature(rgb_net, rgb_input(frames[lo : lo + CHUNK])))
        flow.append(feature(flow_net, flow_input(fl)))
    return np.stack(rgb), np.stack(flow), chunks


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--video", required=True)
    ap.add_argument("--i3d", required=True, help="path of pytorch-i3d's pytorch_i3d.py")
    ap.add_argument("--weights-rgb")
    ap.add_argument("--weights-flow")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--json")
    ap.add_argument("--device", default="cpu", help="where the networks run: cpu or cuda")
    ap.add_argument("--flow", default="cpu", help="TV-L1 on OpenCV's cpu or cuda implementation")
    args = ap.parse_args()
    global DEVICE
    DEVICE = torch.device(args.device)

    torch.set_num_threads(args.threads)
    cv2.setNumThreads(args.threads)
    torch.manual_seed(0)
    i3d = load_module(args.i3d)
    nets = {}
    for name, channels, weights in [
        ("rgb", 3, args.weights_rgb),
        ("flow", 2, args.weights_flow),
    ]:
        net = i3d.InceptionI3d(400, in_channels=channels)
        if weights:
            net.load_state_dict(torch.load(weights, map_location="cpu"))
        nets[name] = net.eval().to(DEVICE)
    tvl1 = CudaTvl1() if args.flow == "cuda" else cv2.optflow.DualTVL1OpticalFlow_create()

    t0 = time.perf_counter()
    rgb, flow, chunks = whole(args.video, nets["rgb"], nets["flow"], tvl1)
    whole_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    whole(args.video, nets["rgb"], nets["flow"], tvl1)
    whole_warm_s = time.perf_counter() - t0
    frames_n = chunks * CHUNK

    t0 = time.perf_counter()
    frames = decode(args.video)
    decode_s = time.perf_counter() - t0
    grays = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames]
    t0 = time.perf_counter()
    for c in range(chunks):
        flows_of(tvl1, grays[c * CHUNK : min((c + 1) * CHUNK + 1, len(grays))])
    tvl1_s = time.perf_counter() - t0

    def net_s(net, channels):
        x = torch.full((1, channels, CHUNK, CROP, CROP), 0.1, device=DEVICE)
        feature(net, x)
        sync()
        t0 = time.perf_counter()
        for _ in range(chunks):
            feature(net, x)
        sync()
        return time.perf_counter() - t0

    rgb_s = net_s(nets["rgb"], 3)
    flow_s = net_s(nets["flow"], 2)

    fps = lambda s: frames_n / max(s, 1e-9)
    print(
        f"pytorch+opencv: {frames_n} frames ({chunks} chunks): whole {fps(whole_s):.1f} frames/s "
        f"({whole_s:.1f} s; again {fps(whole_warm_s):.1f} frames/s) | decode {fps(decode_s):.0f} "
        f"frames/s, TV-L1 {fps(tvl1_s):.1f}, I3D rgb {fps(rgb_s):.1f}, I3D flow {fps(flow_s):.1f} "
        f"(networks on {args.device}, TV-L1 on OpenCV's {args.flow}; {args.threads} threads; torch {torch.__version__}, OpenCV {cv2.__version__})"
    )
    if args.json:
        row = {
            "backend": f"pytorch-{args.device}+opencv-{args.flow}",
            "frames": frames_n,
            "chunks": chunks,
            "whole_s": whole_s,
            "whole_warm_s": whole_warm_s,
            "whole_fps": fps(whole_s),
            "whole_warm_fps": fps(whole_warm_s),
            "decode_s": decode_s,
            "tvl1_s": tvl1_s,
            "i3d_rgb_s": rgb_s,
            "i3d_flow_s": flow_s,
            "threads": args.threads,
            "torch": torch.__version__,
            "opencv": cv2.__version__,
            "device": args.device,
            "flow": args.flow,
            "rgb_features": rgb.shape[0],
            "flow_features": flow.shape[0],
        }
        with open(args.json, "w") as f:
            json.dump(row, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
