// Writes the benchmark's events: N NDJSON lines of ~300-byte click events (deterministic).
//   node events.mjs <out-file> [count=100]
import { writeFileSync } from 'node:fs';
const [out, count = 100] = process.argv.slice(2);
const pages = ['/', '/search', '/products/espresso-machine-deluxe', '/cart', '/checkout/payment'];
const lines = [];
for (let i = 0; i < Number(count); i++) {
  lines.push(JSON.stringify({
    event_id: `evt-${String(i).padStart(8, '0')}`,
    type: i % 5 === 0 ? 'click' : 'page_view',
    user_id: `user-${(i * 7919) % 100000}`,
    session_id: `sess-${(i * 104729) % 1000000}`,
    page: pages[i % pages.length],
    referrer: 'https://www.example.com/landing?utm_source=newsletter',
    user_agent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0',
    ts: `2026-11-23T21:${String(i % 60).padStart(2, '0')}:00.123Z`,
    duration_ms: (i * 37) % 5000,
  }));
}
writeFileSync(out, lines.join('\n') + '\n');
const bytes = lines.reduce((n, l) => n + l.length, 0) / lines.length;
console.error(`${lines.length} events, ${bytes.toFixed(0)} bytes on average`);
