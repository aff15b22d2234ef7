// Load edge_ssre's MicroPython-clean core modules into the MicroPython WebAssembly port and run a
// vector script; its stdout is compared with the same script on CPython by tests/test_micropython.py.
//   node run_core.mjs <repo root> <script.py>
import { readFileSync } from "node:fs";
import { loadMicroPython } from "@micropython/micropython-webassembly-pyscript";

const [root, script] = process.argv.slice(2);
const CORE = {
  "ring_buffer.py": "edge_ssre/store/ring_buffer.py",
  "topic_filter.py": "edge_ssre/telemetry/topic_filter.py",
  "rate_table.py": "edge_ssre/telemetry/rate_table.py",
  "schema.py": "edge_ssre/telemetry/schema.py",
  "budget.py": "edge_ssre/decode/budget.py",
  "verdict.py": "edge_ssre/verdict.py",
  "envelope.py": "edge_ssre/envelope.py",
};
const out = [];
const mp = await loadMicroPython({ stdout: (l) => out.push(l), stderr: (l) => process.stderr.write(l + "\n") });
mp.FS.mkdir("/lib");
mp.FS.mkdir("/lib/core");
mp.FS.mkdir("/data");
mp.FS.writeFile("/lib/core/__init__.py", "");
for (const [name, path] of Object.entries(CORE)) {
  mp.FS.writeFile("/lib/core/" + name, readFileSync(root + "/" + path, "utf8"));
}
try {
  mp.runPython("import sys\nsys.path.append('/lib')\nRUNTIME = 'micropython'\nDATA = '/data'\n" + readFileSync(script, "utf8"));
} catch (e) {
  process.stderr.write(String(e) + "\n");
  process.exit(1);
}
process.stdout.write(out.join("\n") + "\n");
