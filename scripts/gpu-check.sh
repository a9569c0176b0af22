#!/usr/bin/env bash
# The GPU checks of issue #21 in one go, on a machine with an NVIDIA GPU, its driver, and NuGet
# access to TorchSharp's CUDA package (TorchSharp-cuda-linux, the TorchSharp-cpu version: see
# README "GPU"). Builds with -p:TorchBackend=cuda into its own output folders (the CPU build is
# left alone), then:
#   1. `whet sample --device cuda` and `whet logprobs --device cuda` on a small random model;
#   2. the engine's device tests against CUDA libtorch (the --device cuda refusal test skips itself there);
#   3. bench --device-check: logprobs CPU vs GPU (fp32 and bf16), prefill tok/s against the GPU's
#      measured bf16 matmul peak, decode tok/s against its measured read bandwidth, and a LoRA
#      training step (fp32 loss and gradient norm vs the CPU, bf16 speed).
# Usage: bash scripts/gpu-check.sh [preset, default 120m] [--device=cuda:N]
# Exits non-zero when a step or a parity check fails. Prints everything it measured.
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-120m}"
device="cuda"
for arg in "$@"; do [[ "$arg" == --device=* ]] && device="${arg#--device=}"; done
out="${WHET_GPU_OUT:-/tmp/whetstone-gpu}"
mkdir -p "$out"
props=(-p:TorchBackend=cuda -p:BaseOutputPath="$out/bin/" -p:BaseIntermediateOutputPath="$out/obj/")

echo "== machine"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || { echo "nvidia-smi failed: no NVIDIA driver here" >&2; exit 1; }
echo "load $(cut -d' ' -f1 /proc/loadavg), $(nproc) cores"

echo "== build (TorchBackend=cuda)"
dotnet build src/Whetstone.Cli -c Release -v q "${props[@]}"
dotnet build bench/Whetstone.Bench -c Release -v q "${props[@]}"
whet="$(find "$out/bin" -path '*Whetstone.Cli*Release*' -name whet -type f | head -1)"
[ -x "$whet" ] || { echo "whet was not built under $out/bin" >&2; exit 1; }

echo "== whet on $device"
model="$out/tiny"
[ -f "$model/config.json" ] || "$whet" init-model --out "$model" --hidden-size 64 --layers 2 --heads 4 --kv-heads 2 --intermediate-size 128 --seed 1
"$whet" sample -m "$model" -p "hello" --max-tokens 8 -t 0 --device "$device" --json
cpu_logprobs="$("$whet" logprobs -m "$model" --tokens 1,2,3,4,5,6,7,8 --dtype fp32 --device cpu --json)"
gpu_logprobs="$("$whet" logprobs -m "$model" --tokens 1,2,3,4,5,6,7,8 --dtype fp32 --device "$device" --json)"
echo "cpu: $cpu_logprobs"
echo "gpu: $gpu_logprobs"

echo "== engine device tests against CUDA libtorch"
dotnet test tests/Whetstone.Engine.Tests -c Release "${props[@]}" --filter "FullyQualifiedName~Whetstone.Engine.Tests.Device" -v q

echo "== bench --device-check ($preset on $device)"
dotnet run -c Release --no-build --project bench/Whetstone.Bench "${props[@]}" -- "$preset" --device-check --device="$device"
