// Node's child_process, with the same arguments and output as the C++ peers
// (benchmarks/peers/workload.hpp): spawn COUNT PARENT_MIB | capture MIB.
'use strict';
const { spawnSync } = require('child_process');

const [workload, first, second] = process.argv.slice(2);
if (workload === 'spawn') {
  const count = Number(first);
  const memory = Buffer.alloc(Number(second) * 1048576, 1);  // touched: filled
  spawnSync('true');
  const start = process.hrtime.bigint();
  for (let i = 0; i < count; ++i) spawnSync('true');
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  console.log((seconds / count).toFixed(9));
  if (memory.length < 0) console.log('');
} else if (workload === 'capture') {
  const size = Number(first) * 1048576;
  const start = process.hrtime.bigint();
  const out = spawnSync('head', ['-c', String(size), '/dev/zero'], { maxBuffer: Infinity }).stdout;
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (out.length !== size) {
    console.error(`captured ${out.length} bytes, not ${size}`);
    process.exit(1);
  }
  console.log(seconds.toFixed(9));
} else {
  console.error(`unknown workload ${workload}`);
  process.exit(2);
}
