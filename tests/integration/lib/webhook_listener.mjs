// A tiny HTTP listener for scheduler tests: appends each request as one JSON line
// {method, url, body} to the file given, answers 200 (or the status in ?status=NNN), and prints
// its port on stdout once listening. Usage: node webhook_listener.mjs <out-file>
import { createServer } from 'node:http';
import { appendFileSync } from 'node:fs';

const out = process.argv[2];
const server = createServer((request, response) => {
  let body = '';
  request.on('data', (chunk) => { body += chunk; });
  request.on('end', () => {
    appendFileSync(out, JSON.stringify({ method: request.method, url: request.url, body }) + '\n');
    const status = Number(new URL(request.url, 'http://x').searchParams.get('status') || 200);
    response.writeHead(status, { 'Content-Type': 'text/plain' });
    response.end('ok\n');
  });
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
