const out = {};
for (const s of ['node:fs','node:path','node:module','node:os','node:stream','node:crypto','node:url']) { const t = performance.now(); await import(s); out[s] = (performance.now() - t).toFixed(2); }
console.log(JSON.stringify(out));
