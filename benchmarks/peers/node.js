// Node's child_process, with the same arguments and output as the C++ peers
// (benchmarks/peers/workload.hpp): spawn COUNT PARENT_MIB | capture MIB.
'use strict';
const { spawn, spawnSync } = require('child_process');

const [workload, first, second] = process.argv.slice(2);
if (workload === 'spawn') {
  const count = Number(first);
  const memory = Buffer.alloc(Number(second) * 1048576, 1);  // touched: filled
  const run = () => {
    if (spawnSync('true').status !== 0) process.exit(1);
  };
  run();
  const start = process.hrtime.bigint();
  for (let i = 0; i < count; ++i) run();
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
} else if (workload === 'pipeline') {
  // spawn() with each stage's stdout handed to the next as its stdin.
  const stage = (stdin) => spawn('true', [], { stdio: [stdin, 'pipe', 'inherit'] });
  const ended = (child) => new Promise((resolve) => child.on('exit', (code) => {
    if (code !== 0) process.exit(1);
    resolve();
  }));
  const pipeline = async () => {
    const a = stage('ignore');
    const b = stage(a.stdout);
    const c = spawn('true', [], { stdio: [b.stdout, 'inherit', 'inherit'] });
    const all = Promise.all([ended(a), ended(b), ended(c)]);
    // The stages have their ends: the parent's copies go.
    a.stdout.destroy();
    b.stdout.destroy();
    await all;
  };
  (async () => {
    const count = Number(first);
    await pipeline();
    const start = process.hrtime.bigint();
    for (let i = 0; i < count; ++i) await pipeline();
    console.log((Number(process.hrtime.bigint() - start) / 1e9 / count).toFixed(9));
  })();
} else if (workload === 'pool' || workload === 'async') {
  // Node's own way, asynchronous spawn() with a new one started as each
  // ends, serves as its pool and its asynchronous interface both.
  const count = Number(first);
  const parallel = Number(second);
  const start = process.hrtime.bigint();
  let started = 0;
  const next = () => new Promise((resolve) => {
    const loop = () => {
      if (started === count) return resolve();
      ++started;
      spawn('true').on('close', (code) => {
        if (code !== 0) process.exit(1);
        loop();
      });
    };
    loop();
  });
  Promise.all(Array.from({ length: parallel }, next)).then(() => {
    console.log((Number(process.hrtime.bigint() - start) / 1e9 / count).toFixed(9));
  });
} else {
  console.error(`unknown workload ${workload}`);
  process.exit(2);
}
