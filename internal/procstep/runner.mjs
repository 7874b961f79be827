// airlock process-mode runner: runs one code step inside the jail.
//
// Protocol (private descriptors, not stdout):
//   fd 3 (read):  the step's input JSON, then EOF.
//   fd 4 (write): frames of a 4-byte little-endian length and a JSON object:
//                 {"t":"log","s":STREAM,"m":TEXT}       one console call
//                 {"t":"result","v":JSON_TEXT}          the step's output
//                 {"t":"throw","name","message","stack"} an uncaught error
//                 {"t":"syntax","name","message","stack"} the source does not parse
//                 {"t":"bad","message"}                 no runnable entry / not JSON
//                 {"t":"toolarge","n":BYTES}            output over the payload limit
// argv[2] is {"file": path, "name": display name, "esm": bool, "max": bytes}.
import fs from 'node:fs';
import vm from 'node:vm';
import util from 'node:util';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';

const IN = 3, OUT = 4;
// The step runs in this process and may replace globals; keep the ones the
// protocol depends on as they were before any of its code loaded.
const stringify = JSON.stringify, parse = JSON.parse, format = util.format;
const cfg = parse(process.argv[2]);

function send(obj) {
  const body = Buffer.from(stringify(obj));
  const buf = Buffer.allocUnsafe(4 + body.length);
  buf.writeUInt32LE(body.length, 0);
  body.copy(buf, 4);
  let off = 0;
  while (off < buf.length) off += fs.writeSync(OUT, buf, off, buf.length - off);
}

for (const s of ['log', 'info', 'warn', 'error', 'debug']) {
  console[s] = (...args) => send({ t: 'log', s, m: format(...args) });
}
console.trace = (...args) => send({ t: 'log', s: 'error', m: format(...args) });

function errorFrame(t, e) {
  if (e instanceof Error || (e && typeof e === 'object' && 'message' in e)) {
    return { t, name: String(e.name ?? 'Error'), message: String(e.message), stack: String(e.stack ?? '') };
  }
  let m;
  try { m = typeof e === 'string' ? e : stringify(e) ?? String(e); } catch { m = String(e); }
  return { t, name: '', message: m, stack: '' };
}

// Net "proxy": route the http and https modules' default agents (used by
// http.get, https.get and most npm HTTP clients) through HTTP_PROXY, the
// jail's only way out. Node 20's built-in fetch ignores agents; it has no
// route out of the jail.
if (process.env.HTTP_PROXY) {
  const proxy = new URL(process.env.HTTP_PROXY);
  class ProxyHTTPAgent extends http.Agent {
    addRequest(req, options) {
      // Absolute-form request to the proxy.
      req.path = `http://${options.host}${options.port && options.port != 80 ? ':' + options.port : ''}${req.path}`;
      super.addRequest(req, { ...options, host: proxy.hostname, hostname: proxy.hostname, port: proxy.port });
    }
  }
  class ProxyHTTPSAgent extends https.Agent {
    createConnection(options, cb) {
      const target = `${options.host}:${options.port || 443}`;
      const req = http.request({ host: proxy.hostname, port: proxy.port, method: 'CONNECT', path: target, headers: { host: target } });
      req.once('connect', (res, socket) => {
        if (res.statusCode !== 200) {
          socket.destroy();
          const e = new Error(`proxy refused CONNECT ${target}: ${res.statusCode} ${res.headers['x-airlock-error'] ?? ''}`.trim());
          e.code = 'EPROXYREFUSED';
          return cb(e);
        }
        cb(null, tls.connect({ ...options, socket, servername: options.servername ?? options.host }));
      });
      req.once('error', cb);
      req.end();
    }
  }
  http.globalAgent = new ProxyHTTPAgent({ keepAlive: false });
  https.globalAgent = new ProxyHTTPSAgent({ keepAlive: false });
}

let input = null;
{
  const b = fs.readFileSync(IN);
  fs.closeSync(IN);
  if (b.length) input = parse(b.toString('utf8'));
}

let value;
let loaded = false;
try {
  if (cfg.esm) {
    const mod = await import(pathToFileURL(cfg.file).href);
    loaded = true;
    const fn = typeof mod.code === 'function' ? mod.code : typeof mod.default === 'function' ? mod.default : null;
    if (!fn) {
      send({ t: 'bad', message: 'the module exports neither code() nor a default function' });
      process.exit(0);
    }
    value = await fn(input);
  } else {
    const src = fs.readFileSync(cfg.file, 'utf8');
    globalThis.inputs = input;
    globalThis.require = createRequire(cfg.file);
    const script = new vm.Script(src, { filename: cfg.name });
    loaded = true;
    value = await script.runInThisContext();
  }
} catch (e) {
  send(errorFrame(!loaded && e instanceof SyntaxError ? 'syntax' : 'throw', e));
  process.exit(0);
}
let json;
try {
  json = stringify(value);
} catch (e) {
  send({ t: 'bad', message: 'the result is not JSON-serializable: ' + String(e && e.message) });
  process.exit(0);
}
if (json === undefined) json = 'null';
const n = Buffer.byteLength(json);
if (n > cfg.max) send({ t: 'toolarge', n });
else send({ t: 'result', v: json });
process.exit(0);
