// The dashboard's one HTML page with its style sheet inline; the script is the compiled
// src/dashboard/client/main.ts, loaded as an ES module from this server (no CDN, works offline).

const STYLE = `
:root { --bg:#f6f7f9; --panel:#fff; --ink:#1d2330; --muted:#6b7385; --line:#dde1e8; --ok:#2e9e5b; --warn:#d99a1e; --bad:#d64545; --accent:#2f6fdf; --svc:#7a56c2; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif; color:var(--ink); background:var(--bg); }
header { display:flex; align-items:center; gap:24px; padding:10px 20px; background:#1d2330; color:#fff; }
header h1 { font-size:17px; margin:0; letter-spacing:.5px; }
header nav a { color:#c9d1e0; text-decoration:none; margin-right:16px; padding:4px 0; border-bottom:2px solid transparent; }
header nav a.active { color:#fff; border-color:#7fb0ff; }
header .summary { margin-left:auto; color:#c9d1e0; font-size:12px; }
main { padding:16px 20px; }
.panel { background:var(--panel); border:1px solid var(--line); border-radius:8px; padding:12px 16px; margin-bottom:16px; }
.muted { color:var(--muted); }
.row { display:flex; gap:16px; align-items:flex-start; }
.grow { flex:1; min-width:0; }
table { border-collapse:collapse; width:100%; font-size:13px; }
th, td { text-align:left; padding:5px 8px; border-bottom:1px solid var(--line); white-space:nowrap; }
th { color:var(--muted); font-weight:600; }
td.wrap { white-space:normal; word-break:break-all; }
.num { text-align:right; font-variant-numeric:tabular-nums; }
.ok { color:var(--ok); } .warn { color:var(--warn); } .bad { color:var(--bad); }
.badge { display:inline-block; padding:0 6px; border-radius:9px; font-size:11px; background:#eef1f6; color:var(--muted); }
.badge.error { background:#fde8e8; color:var(--bad); } .badge.warning { background:#fdf3e1; color:#9a6a0c; }
svg text { font-family:inherit; }
#graph svg { width:100%; background:var(--panel); border:1px solid var(--line); border-radius:8px; }
.node circle, .node rect, .node polygon { stroke-width:2; }
.node.workload circle { fill:#e9f0fd; stroke:var(--accent); }
.node.service rect.shape { fill:#f1ecfa; stroke:var(--svc); }
.node rect.hit { fill:transparent; stroke:none; }
.node.gateway polygon { fill:#e6f5ec; stroke:var(--ok); }
.node.unknown circle { fill:#f3f3f3; stroke:#999; stroke-dasharray:4 3; }
.node.idle { opacity:.45; }
.node text.name { font-size:12px; font-weight:600; fill:var(--ink); }
.node text.sub { font-size:10px; fill:var(--muted); }
.edge path { fill:none; stroke-width:2; }
.edge.plaintext path, .edge.unknown path { stroke-dasharray:6 4; }
.edge text { font-size:10.5px; fill:#39414f; paint-order:stroke; stroke:#fff; stroke-width:3px; }
.edge text.tls { fill:#1f7a45; }
.edge.idle { opacity:.35; }
.legend span { margin-right:16px; font-size:12px; }
.cards { display:grid; grid-template-columns:repeat(auto-fill,minmax(520px,1fr)); gap:16px; }
.card h3 { margin:0 0 8px; font-size:14px; }
.spark { display:grid; grid-template-columns:repeat(4,1fr); gap:10px; }
.spark div { font-size:11px; color:var(--muted); }
.spark b { display:block; font-size:15px; color:var(--ink); }
.spark svg { width:100%; height:40px; }
.spark polyline { fill:none; stroke:var(--accent); stroke-width:1.5; }
.spark path { fill:rgba(47,111,223,.12); stroke:none; }
details summary { cursor:pointer; }
pre { background:#f4f6f9; padding:8px; border-radius:6px; overflow:auto; max-height:360px; font-size:12px; }
.controls { display:flex; gap:10px; align-items:center; flex-wrap:wrap; }
.controls input, .controls select, .controls button { font:inherit; padding:4px 8px; border:1px solid var(--line); border-radius:6px; background:#fff; }
.controls button { background:var(--accent); color:#fff; border-color:var(--accent); cursor:pointer; }
.controls button.stop { background:#fff; color:var(--bad); border-color:var(--bad); }
#tap-rows tr.fresh { animation: fresh 1.2s ease-out; }
@keyframes fresh { from { background:#fff7d6; } to { background:transparent; } }
`;

export function dashboardPage(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Strait dashboard</title>
<style>${STYLE}</style>
</head>
<body>
<header>
  <h1>Strait</h1>
  <nav>
    <a href="#graph" data-view="graph">Graph</a>
    <a href="#services" data-view="services">Services</a>
    <a href="#config" data-view="config">Config</a>
    <a href="#tap" data-view="tap">Tap</a>
  </nav>
  <div class="summary" id="summary">connecting…</div>
</header>
<main id="main"></main>
<script type="module" src="/dashboard/assets/main.js"></script>
</body>
</html>
`;
}
