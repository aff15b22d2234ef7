// Run a Python script on the real MicroPython runtime (the WebAssembly port under Node.js) with a
// bundle of edge_ssre's micro core on its path; stdout is compared with the same script on CPython.
//   node run_core.mjs <bundle dir> <script.py> [data file ...]
// Every file of <bundle dir> (a package directory, .py or .mpy) goes to /lib/<package>/, data
// files to /data/. The script sees RUNTIME = 'micropython' and DATA = '/data'.
// A line "#@step" splits the script into parts run one after another (globals are kept): this
// port's collector frees garbage only between runPython calls, so memory is measured across steps.
import { readFileSync, readdirSync } from "node:fs";
import { basename, join } from "node:path";
import { loadMicroPython } from "@micropython/micropython-webassembly-pyscript";

const [bundle, script, ...data] = process.argv.slice(2);
const out = [];
const mp = await loadMicroPython({
  heapsize: 8 * 1024 * 1024,
  stdout: (l) => out.push(l),
  stderr: (l) => process.stderr.write(l + "\n"),
});
const pkg = basename(bundle);
mp.FS.mkdir("/lib");
mp.FS.mkdir("/lib/" + pkg);
mp.FS.mkdir("/data");
for (const name of readdirSync(bundle)) {
  mp.FS.writeFile("/lib/" + pkg + "/" + name, readFileSync(join(bundle, name)));
}
for (const path of data) {
  mp.FS.writeFile("/data/" + basename(path), readFileSync(path));
}
try {
  mp.runPython("import sys\nsys.path.append('/lib')\nRUNTIME = 'micropython'\nDATA = '/data'\n");
  for (const part of readFileSync(script, "utf8").split(/^#@step.*$/m)) {
    mp.runPython(part);
  }
} catch (e) {
  process.stdout.write(out.join("\n") + "\n");
  process.stderr.write(String(e) + "\n");
  process.exit(1);
}
process.stdout.write(out.join("\n") + "\n");
