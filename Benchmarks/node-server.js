// What WAHA's Node stack could do at best, before its framework and engine: Node's own http
// module answering GET /api/contacts with the same bytes from memory.
// Usage: node node-server.js <port> <file holding the body>
const http = require('http');
const fs = require('fs');

const [port, bodyFile] = process.argv.slice(2);
const body = fs.readFileSync(bodyFile);

http.createServer((request, response) => {
  if (request.method === 'GET' && request.url.startsWith('/api/contacts')) {
    response.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': body.length });
    response.end(body);
  } else {
    response.writeHead(404);
    response.end();
  }
}).listen(Number(port), '127.0.0.1');
