#!/bin/bash
# The local provider on a machine with a GPU: what each PROMPTSMITH_GPU setting does, what `serve` says,
# and eval's speed and repeatability on the CPU and the GPU build. Not a test: CI has no GPU.
# Usage, after `npm ci && npm run build`: bash bench/gpu-check.sh <model.gguf> [gpu build, default vulkan]
set -u
MODEL=$(realpath "${1:?usage: bash bench/gpu-check.sh <model.gguf> [cuda|vulkan]}")
GPU=${2:-vulkan}
PS="node $(realpath "$(dirname "$0")/..")/bin/promptsmith.js"
W=$(mktemp -d); cd "$W"
now() { date +%s.%N; }
since() { node -e 'console.log((Number(process.argv[2]) - Number(process.argv[1])).toFixed(2))' "$1" "$(now)"; }
echo "work dir $W; $(nproc) cpus; $(nvidia-smi -L 2>/dev/null | head -1)"
printf '{{#user}}Say {{x}}{{/user}}\n' > t.hbs

echo "=== 1. run, one prompt, each gpu setting"
for g in "" $GPU auto cuda metal; do
  s=$(now)
  PROMPTSMITH_GPU=$g $PS run t.hbs --var x=hi --provider "local:$MODEL" > run-$g.out 2> run-$g.err; rc=$?
  echo "gpu='$g' exit $rc, $(since "$s") s, $(wc -c < run-$g.out) B out; stderr: $(tr '\n' ' ' < run-$g.err | cut -c1-300)"
done

echo "=== 2. serve says where the model runs; one chat request through it"
for g in $GPU auto ""; do
  PROMPTSMITH_GPU=$g $PS serve --model "$MODEL" --port 0 > /dev/null 2> serve-$g.err &
  pid=$!; (sleep 60; kill -9 $pid 2> /dev/null) &
  for _ in $(seq 1 150); do grep -q "serving on" serve-$g.err 2> /dev/null && break; sleep 0.2; done
  url=$(grep -o 'serving on [^ ]*' serve-$g.err | cut -d' ' -f3)
  body=$(curl -s -m 30 "$url/chat/completions" -H 'content-type: application/json' \
    -d '{"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":8,"temperature":0}' | head -c 200)
  kill -TERM $pid; wait $pid; rc=$?
  echo "gpu='$g' exit $rc; stderr: $(grep -v '^POST' serve-$g.err | tr '\n' '|' | cut -c1-300)"
  echo "  answer: $body"
done

echo "=== 3. eval: ${CASES:-256} cases x 128 tokens, greedy, seed 1, on the CPU and on $GPU"
node -e 'for (let i = 0; i < Number(process.env.CASES || 256); i++) console.log(JSON.stringify({ id: String(i), x: `word ${i}`, expected: "x" }))' > cases.jsonl
same() { node -e 'const f = require("fs"); const a = JSON.parse(f.readFileSync(process.argv[1])).cases, b = JSON.parse(f.readFileSync(process.argv[2])).cases; console.log(`${a.filter((c, i) => c.output === b[i].output).length}/${a.length}`)' "$1" "$2" 2> /dev/null || echo "n/a"; }
for par in 4 16; do
  printf 'providers:\n  - id: local:%s\n    params: { temperature: 0, max_tokens: 128, seed: 1, parallel: %s }\nprompts:\n  - { id: p, template: t.hbs }\ntests: { path: cases.jsonl }\nscorer: contains\n' "$MODEL" $par > p$par.yaml
  for g in "" $GPU; do
    s=$(now)
    PROMPTSMITH_GPU=$g $PS eval p$par.yaml --no-cache -j $par -o r$par-$g.json > /dev/null 2> e.err; rc=$?
    echo "parallel $par, gpu='$g': exit $rc, $(since "$s") s $(head -c 200 e.err)"
  done
  echo "  greedy answers the same on the CPU and $GPU: $(same r$par-.json r$par-$GPU.json)"
done

echo "=== 4. repeatability: the first 32 cases twice with one sequence, then twice with 16, on each build"
head -32 cases.jsonl > cases32.jsonl
for par in 1 16; do
  sed "s/parallel: [0-9]*/parallel: $par/; s/cases.jsonl/cases32.jsonl/" p16.yaml > q$par.yaml
  for g in "" $GPU; do
    for k in a b; do PROMPTSMITH_GPU=$g $PS eval q$par.yaml --no-cache -j 16 -o q$par-$g-$k.json > /dev/null 2>&1; done
    echo "parallel $par, gpu='$g': greedy answers the same in both runs: $(same q$par-$g-a.json q$par-$g-b.json)"
  done
done
