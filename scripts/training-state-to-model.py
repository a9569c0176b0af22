#!/usr/bin/env python3
"""Writes the model weights of a training checkpoint (the service's weights/step-N/state.safetensors:
model tensors plus optimizer.* moments) as a Hugging Face model directory: the model.* tensors, fp32
as stored, with the config and tokenizer files of a base model directory. Used to check and ship a
stage's intermediate checkpoint of models/whet-reader-nano without stopping the run. Standard
library only. Usage: training-state-to-model.py STATE_SAFETENSORS BASE_DIR OUT_DIR"""
import json, os, shutil, struct, sys

def main(state: str, base: str, out: str) -> None:
    os.makedirs(out, exist_ok=True)
    for name in os.listdir(base):
        if name.endswith(".json") and name != "manifest.json":
            shutil.copy(os.path.join(base, name), os.path.join(out, name))
    with open(state, "rb") as f:
        (size,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(size))
        data = f.read()
    new_header, chunks, offset = {}, [], 0
    for key, info in sorted(((k, v) for k, v in header.items() if k != "__metadata__" and not k.startswith("optimizer.")), key=lambda kv: kv[1]["data_offsets"][0]):
        begin, end = info["data_offsets"]
        chunks.append(data[begin:end])
        new_header[key] = {"dtype": info["dtype"], "shape": info["shape"], "data_offsets": [offset, offset + end - begin]}
        offset += end - begin
    new_header["__metadata__"] = {"format": "pt"}
    blob = json.dumps(new_header, separators=(",", ":")).encode()
    blob += b" " * (-len(blob) % 8)
    with open(os.path.join(out, "model.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(blob)) + blob)
        for chunk in chunks:
            f.write(chunk)
    cfg_path = os.path.join(out, "config.json")
    cfg = json.load(open(cfg_path))
    cfg["torch_dtype"] = "float32"
    json.dump(cfg, open(cfg_path, "w"), indent=2)
    print(f"{out}: {len(new_header) - 1} tensors, {offset} bytes")

if __name__ == "__main__":
    main(*sys.argv[1:4])
