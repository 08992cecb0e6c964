// Turns the ```sh blocks of one Markdown file into a bash script for docs_commands_test.sh:
// each command is preceded by `__at <line>` (its line in the Markdown file), blocks are
// announced with their text, `serve` commands go through `__serve` (background, wait for
// /healthz), lines marked `# illustrative` are reported and skipped, and a curl line whose
// comment starts with an HTTP error status (`# 404: ...`) must get exactly that status.
//
// usage: node docs_to_script.mjs <file.md> <name shown in messages>
import { readFileSync } from "node:fs";

const [, , path, shown] = process.argv;
const lines = readFileSync(path, "utf8").split("\n");
const quote = (text) => "'" + text.replaceAll("'", "'\\''") + "'";
const out = [];
const serveRe = /^(\s*)((?:\$M|\$\{M\}|millrace|\S*\/millrace)\s+(?:jobs\s+)?serve\b.*)$/;

let i = 0;
while (i < lines.length) {
  const fence = lines[i].match(/^```(\S*)\s*$/);
  if (!fence) { i++; continue; }
  const lang = fence[1];
  const start = i + 1;  // 1-based line of the fence is i + 1; commands start after it
  let end = i + 1;
  while (end < lines.length && !/^```\s*$/.test(lines[end])) end++;
  const body = lines.slice(i + 1, end);
  i = end + 1;
  if (lang !== "sh") continue;
  out.push(`__block ${start} ${quote(body.join("\n"))}`);
  let k = 0;
  while (k < body.length) {
    const lineNo = start + 1 + k;
    let text = body[k];
    k++;
    if (/^\s*(#.*)?$/.test(text)) continue;  // blank or comment
    // A command: continuation lines, and heredoc bodies up to their terminator.
    const parts = [text];
    while (/\\\s*$/.test(parts[parts.length - 1]) && k < body.length) parts.push(body[k++]);
    // Multi-line quoted strings: keep reading while a single quote is open.
    const openQuote = (s) => (s.replace(/\$'(?:[^'\\]|\\.)*'/g, "").replace(/"(?:[^"\\]|\\.)*"/g, "")
      .replace(/(^|\s)#.*$/gm, "").match(/'/g) || []).length % 2 === 1;
    while (openQuote(parts.join("\n")) && k < body.length) parts.push(body[k++]);
    const heredoc = parts.join("\n").match(/<<-?\s*['"]?(\w+)['"]?/);
    if (heredoc) {
      while (k < body.length) {
        const l = body[k++];
        parts.push(l);
        if (l.trim() === heredoc[1]) break;
      }
    }
    let command = parts.join("\n");
    if (/#\s*illustrative\b/.test(command)) {
      out.push(`__skip ${lineNo} ${quote(command)}`);
      continue;
    }
    out.push(`__at ${lineNo} ${quote(command)}`);
    const status = parts[0].match(/^\s*curl\b.*#\s*([45]\d\d)\b/);
    if (status) out.push(`__expect_status=${status[1]}`);
    const serve = parts.length === 1 && command.match(serveRe);
    if (serve) {
      // Drop a trailing comment and `&`: __serve always starts it in the background.
      command = serve[1] + "__serve " + serve[2].replace(/\s#.*$/, "").replace(/&\s*$/, "").trim();
    }
    out.push(command);
    out.push("__expect_status=");
  }
  out.push("__end_block");
}
process.stdout.write(`__doc=${quote(shown)}\n` + out.join("\n") + "\n__end_file\n");
