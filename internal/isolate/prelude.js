// airlock isolate prelude. Evaluated once per process before the snapshot is
// taken; every execution starts from the state it leaves. It receives the
// single host function and returns the driver the host calls. Nothing it
// keeps is reachable from user code except the globals it installs below.
(function (host) {
  "use strict";
  const OP_LOG = 1, OP_TIMER = 2, OP_CLEAR = 3, OP_DONE = 4, OP_CAP = 5;
  const MAX_TEXT = 1 << 16;
  const g = globalThis;
  const JSONstringify = JSON.stringify, JSONparse = JSON.parse;
  const StringC = String, ObjectC = Object, ErrorC = Error;
  const isArray = Array.isArray;
  const PromiseC = Promise, resolveP = Promise.resolve.bind(Promise);
  const thenP = Function.prototype.call.bind(Promise.prototype.then);
  const mapGet = Function.prototype.call.bind(Map.prototype.get);
  const mapSet = Function.prototype.call.bind(Map.prototype.set);
  const mapDelete = Function.prototype.call.bind(Map.prototype.delete);
  const apply = Reflect.apply;

  // No shared memory, no high-resolution timer construction.
  delete g.SharedArrayBuffer;
  delete g.Atomics;

  function safeString(v) {
    try { return StringC(v); } catch (e) { return "[unprintable]"; }
  }
  function inspect(v, depth) {
    if (typeof v === "string") return depth ? JSONstringify(v) : v;
    if (v === null || typeof v !== "object" && typeof v !== "function") {
      return typeof v === "bigint" ? v + "n" : safeString(v);
    }
    if (typeof v === "function") return "[Function" + (v.name ? ": " + v.name : " (anonymous)") + "]";
    if (v instanceof ErrorC) return safeString(v.stack ? v.name + ": " + v.message + "\n" + v.stack : v);
    try {
      const s = JSONstringify(v);
      if (s !== undefined) return s;
    } catch (e) { /* circular or BigInt: fall through */ }
    return isArray(v) ? "[Array]" : "[object " + ((v.constructor && v.constructor.name) || "Object") + "]";
  }
  function format(args) {
    let s = "";
    for (let i = 0; i < args.length; i++) {
      if (i) s += " ";
      s += inspect(args[i], 0);
      if (s.length > MAX_TEXT) return s.slice(0, MAX_TEXT) + "…";
    }
    return s;
  }
  const levels = ["log", "info", "warn", "error", "debug"];
  const console = {};
  for (let i = 0; i < levels.length; i++) {
    const level = i;
    console[levels[i]] = function () { host(OP_LOG, level, format(arguments)); };
  }
  console.trace = console.debug;
  g.console = console;

  // Timers: the host keeps deadlines and decides how many may exist.
  const timers = new Map();
  let nextTimer = 1;
  function addTimer(fn, ms, args, repeat) {
    if (typeof fn !== "function") throw new TypeError("callback must be a function");
    const id = nextTimer++;
    ms = +ms;
    if (!(ms >= 1)) ms = repeat ? 1 : 0;
    if (ms > 2147483647) ms = 2147483647;
    if (host(OP_TIMER, id, ms) === 1) mapSet(timers, id, { fn, args, ms, repeat });
    return id;
  }
  function clearTimer(id) {
    id = +id;
    if (mapDelete(timers, id)) host(OP_CLEAR, id);
  }
  g.setTimeout = function setTimeout(fn, ms, ...args) { return addTimer(fn, ms, args, false); };
  g.setInterval = function setInterval(fn, ms, ...args) { return addTimer(fn, ms, args, true); };
  g.clearTimeout = clearTimer;
  g.clearInterval = clearTimer;
  g.queueMicrotask = function queueMicrotask(fn) {
    if (typeof fn !== "function") throw new TypeError("callback must be a function");
    thenP(resolveP(undefined), function () { fn(); });
  };

  // Math.random: xoshiro128** seeded per execution from the host CSPRNG
  // (QuickJS seeds its own generator from the clock, which a frozen clock
  // would make reproducible across executions).
  let s0 = 1, s1 = 2, s2 = 3, s3 = 4;
  function rotl(x, k) { return (x << k) | (x >>> (32 - k)); }
  function next32() {
    const r = Math.imul(rotl(Math.imul(s1, 5), 7), 9);
    const t = s1 << 9;
    s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = rotl(s3, 11);
    return r >>> 0;
  }
  ObjectC.defineProperty(Math, "random", {
    value: function random() { return ((next32() >>> 11) * 4294967296 + next32()) / 9007199254740992; },
    writable: true, configurable: true, enumerable: false,
  });

  function clip(s) {
    s = safeString(s);
    return s.length > MAX_TEXT ? s.slice(0, MAX_TEXT) + "…" : s;
  }
  let finished = false;
  function fail(err, code) {
    if (finished) return;
    finished = true;
    let d;
    if (err instanceof ErrorC || (err !== null && typeof err === "object" && "message" in err)) {
      let stack = "";
      try { stack = err.stack === undefined ? "" : clip(err.stack); } catch (e) { /* hostile getter */ }
      d = { name: clip(err.name), message: clip(err.message), stack };
    } else {
      d = { name: "", message: "Uncaught " + clip(inspect(err, 1)), stack: "" };
    }
    if (code) d.code = code;
    host(OP_DONE, 0, JSONstringify(d));
  }
  function succeed(v) {
    if (finished) return;
    let s;
    try {
      s = JSONstringify(v);
    } catch (e) {
      return fail({ name: "TypeError", message: "result is not JSON-serializable: " + clip(e && e.message) }, "ERR_STEP_INVALID");
    }
    finished = true;
    host(OP_DONE, 1, s === undefined ? "null" : s);
  }
  // Called before the step's source is evaluated, so that top-level code
  // already draws from this execution's seed.
  function seed(seedText) {
    const seed = seedText.split(",");
    s0 = seed[0] | 0; s1 = seed[1] | 0; s2 = seed[2] | 0; s3 = seed[3] | 0;
    if ((s0 | s1 | s2 | s3) === 0) s0 = 1;
  }
  function start(value, input, isModule) {
    const inputs = JSONparse(input);
    let p;
    if (isModule) {
      p = thenP(value, function (ns) {
        const f = typeof ns.code === "function" ? ns.code : typeof ns.default === "function" ? ns.default : null;
        if (f === null) {
          const e = new TypeError("module exports neither a code(inputs) function nor a default function");
          e.airlockCode = "ERR_STEP_INVALID";
          throw e;
        }
        return f(inputs);
      });
    } else {
      p = resolveP(value);
    }
    thenP(p, succeed, function (e) { fail(e, e && e.airlockCode); });
  }
  function fire(id) {
    const t = mapGet(timers, id);
    if (t === undefined) return;
    if (!t.repeat) mapDelete(timers, id);
    else host(OP_TIMER, id, t.ms);
    try { apply(t.fn, undefined, t.args); } catch (e) { fail(e); }
  }
  // Capabilities: host services the operator granted, reached only through
  // airlock.call, which exists only if something was granted.
  const calls = new Map();
  let nextCall = 1;
  function capError(message, code) {
    const e = new ErrorC(message);
    if (code) e.code = code;
    return e;
  }
  function capCall(name, method, args) {
    return new PromiseC(function (resolve, reject) {
      const id = nextCall++;
      const r = host(OP_CAP, id, StringC(name) + "\n" + StringC(method), JSONstringify(args === undefined ? null : args));
      if (r === 1) return mapSet(calls, id, { resolve, reject });
      reject(r === 0 ? capError("capability " + StringC(name) + " is not granted", "ERR_SANDBOX_ACCESS_DENIED")
        : r === 2 ? capError("too many capability calls in flight", "ERR_SANDBOX_ACCESS_DENIED")
        : capError("capability arguments over the payload limit", "ERR_SANDBOX_PAYLOAD_TOO_LARGE"));
    });
  }
  function settle(id, ok, payload) {
    const c = mapGet(calls, id);
    if (c === undefined) return;
    mapDelete(calls, id);
    const v = JSONparse(payload);
    if (ok) c.resolve(v);
    else c.reject(capError(v.message, v.code));
  }
  function grant() {
    ObjectC.defineProperty(g, "airlock", {
      value: ObjectC.freeze({ call: capCall }), writable: false, configurable: false, enumerable: false,
    });
  }
  // The driver: the host's only way in. Its ops are the drv* constants of
  // run.go; the host ops above are the op* constants of host.go.
  return function driver(op, a, b, c) {
    switch (op) {
      case 0: return start(a, b, c);
      case 1: return fire(a);
      case 2: return fail(a);
      case 3: g.inputs = JSONparse(a); return;
      case 4: return seed(a);
      case 5: return settle(a, b, c);
      case 6: return grant();
    }
  };
})
