#!/usr/bin/env python3
"""Rewrites a safetensors file's F32 tensors as BF16 (round to nearest even), other tensors as they
are, and sets config.json's torch_dtype to bfloat16: how models/whet-reader-nano was shipped at half
the size of its fp32 sampler checkpoint. Standard library only (this machine has no numpy).
Usage: safetensors-to-bf16.py IN_DIR OUT_DIR (copies the other files of IN_DIR)."""
import array, json, os, shutil, struct, sys

def to_bf16(raw: bytes) -> bytes:
    words = array.array("I", raw)          # fp32 bit patterns, little-endian on x86
    out = array.array("H", bytes(2 * len(words)))
    for i, w in enumerate(words):
        if (w & 0x7F800000) == 0x7F800000:   # inf / nan: truncate, keep nan a nan
            out[i] = (w >> 16) | (0x40 if w & 0x7FFFFF else 0)
        else:
            out[i] = ((w + 0x7FFF + ((w >> 16) & 1)) >> 16) & 0xFFFF
    return out.tobytes()

def main(src: str, dst: str) -> None:
    os.makedirs(dst, exist_ok=True)
    for name in os.listdir(src):
        if name not in ("model.safetensors", "config.json", "manifest.json"):
            shutil.copy(os.path.join(src, name), os.path.join(dst, name))
    with open(os.path.join(src, "model.safetensors"), "rb") as f:
        (size,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(size))
        data = f.read()
    new_header, chunks, offset = {}, [], 0
    for key, info in sorted(((k, v) for k, v in header.items() if k != "__metadata__"), key=lambda kv: kv[1]["data_offsets"][0]):
        begin, end = info["data_offsets"]
        raw = data[begin:end]
        dtype = info["dtype"]
        if dtype == "F32":
            raw, dtype = to_bf16(raw), "BF16"
        new_header[key] = {"dtype": dtype, "shape": info["shape"], "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    if "__metadata__" in header:
        new_header["__metadata__"] = header["__metadata__"]
    text = json.dumps(new_header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(os.path.join(dst, "model.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(chunks))
    with open(os.path.join(src, "config.json")) as f:
        config = json.load(f)
    config["torch_dtype"] = "bfloat16"
    with open(os.path.join(dst, "config.json"), "w") as f:
        json.dump(config, f, indent=2)

if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
