// The CSP of web/index.html allows its inline <style> and <script> by their
// sha256. `node csp.mjs` checks them; `node csp.mjs --write` updates the meta.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const INDEX = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../web/index.html');
const hash = (s) => `'sha256-${crypto.createHash('sha256').update(s, 'utf8').digest('base64')}'`;

/* Returns { want: {script, style}, have: csp string, ok, fixed: html with the right hashes }. */
export function check(html = fs.readFileSync(INDEX, 'utf8')) {
  const inline = (tag) => [...html.matchAll(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, 'g'))].map((m) => hash(m[1]));
  const want = { script: inline('script'), style: inline('style') };
  const meta = html.match(/<meta http-equiv="Content-Security-Policy" content="([^"]*)">/);
  if (!meta) throw new Error('index.html has no CSP meta');
  const csp = meta[1]
    .replace(/script-src [^;]*/, `script-src 'self' ${want.script.join(' ')}`.trim())
    .replace(/style-src [^;]*/, `style-src 'self' ${want.style.join(' ')}`.trim());
  return { want, have: meta[1], ok: csp === meta[1], fixed: html.replace(meta[1], csp) };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const r = check();
  if (process.argv.includes('--write')) {
    if (!r.ok) fs.writeFileSync(INDEX, r.fixed);
    console.log(r.ok ? 'CSP hashes already up to date' : 'CSP hashes updated');
  } else {
    console.log(r.ok ? 'CSP hashes ok' : 'CSP hashes out of date: run node tests/browser/csp.mjs --write');
    process.exit(r.ok ? 0 : 1);
  }
}
