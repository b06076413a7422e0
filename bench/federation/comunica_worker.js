// Comunica worker for run.py: one JSON request per stdin line ({query, sources}), one JSON answer per line.
// A persistent engine so that Node's start-up is not billed to each query; the HTTP cache is cleared
// before each query so that no query reuses another's requests.
const readline = require('readline');
const { QueryEngine } = require('@comunica/query-sparql');

const engine = new QueryEngine();
const rl = readline.createInterface({ input: process.stdin, terminal: false });
let queue = Promise.resolve();

async function answer(line) {
  const request = JSON.parse(line);
  await engine.invalidateHttpCache();
  const start = process.hrtime.bigint();
  try {
    const context = { sources: request.sources.map((url) => ({ type: 'sparql', value: url })) };
    const stream = await engine.queryBindings(request.query, context);
    const rows = await stream.toArray();
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    return { rows: rows.length, seconds };
  } catch (error) {
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    return { error: String(error && error.message ? error.message : error).slice(0, 300), seconds };
  }
}

rl.on('line', (line) => {
  queue = queue.then(async () => {
    const result = await answer(line);
    process.stdout.write(JSON.stringify(result) + '\n');
  });
});
process.stdout.write(JSON.stringify({ ready: true }) + '\n');
