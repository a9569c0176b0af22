#!/usr/bin/env python3
"""Greedy copy probe for a reader candidate (issue #16, docs/results/memory-diffusion.md section 11):
for each held-out one-fact copy-curriculum example (runs/reader3/easy1-heldout.jsonl, written by
`bench --copy-data ... --fact-chains=1`) whose first answer is stated, builds the ChatML prompt the
reader is trained on, samples greedily with `whet sample` (Release build), and prints the exact
copies and the mean character similarity (difflib ratio) of answer to truth. Usage:
reader-copy-probe.py MODEL_DIR"""
import json, subprocess, sys, difflib
model=sys.argv[1]; right=n=0; sim=0.0
for line in open('runs/reader3/easy1-heldout.jsonl'):
    m=json.loads(line)['messages']
    q, a = m[0]['content'], m[1]['content']
    if a == 'unknown': continue
    prompt=f"<|im_start|>user\n{q}<|im_end|>\n<|im_start|>assistant\n"
    out=subprocess.run(['src/Whetstone.Cli/bin/Release/net10.0/linux-x64/whet','sample','-m',model,'-p',prompt,'-t','0','--max-tokens','12','--stop','<|im_end|>','--dtype','fp32'],capture_output=True,text=True).stdout.strip().split('\n')[-1].strip()
    got=out.split('<|im_end|>')[0].strip().rstrip('.'); n+=1; ok = got==a; right+=ok; sim+=difflib.SequenceMatcher(None,a,got).ratio()
    print(f"{a!r} -> {out!r}")
print(f"exact {right}/{n}, mean character similarity {sim/n:.2f}")
