#include "campaign/report.h"

#include <fmt/format.h>

#include <fstream>

#include "model/rules.h"
#include "replay/case_json.h"
#include "replay/case_reader.h"
#include "replay/engine.h"
#include "replay/replay.h"

namespace mmucheck {
namespace {

using json = nlohmann::json;

// The replay of a stored case, as text: what a person reads first.
std::string replay_text(const std::filesystem::path& file, const std::string& engines) {
  std::ifstream in(file);
  if (!in) return "(missing)";
  CaseReader reader(in, file.string());
  CaseRecord rec;
  if (!reader.next(rec) || !rec.file) return rec.error;
  std::vector<std::unique_ptr<Engine>> owned;
  std::vector<const Engine*> list;
  for (std::size_t start = 0; start <= engines.size();) {
    const std::size_t comma = std::min(engines.find(',', start), engines.size());
    if (auto e = make_engine(engines.substr(start, comma - start))) {
      list.push_back(e.get());
      owned.push_back(std::move(e));
    }
    start = comma + 1;
  }
  return render_text(replay_case(*rec.file, list), file.filename().string(), false);
}

json summary(const json& state, const DivergenceStore& store) {
  json s;
  unsigned proved = 0, refuted = 0, known = 0, unknown = 0;
  for (const auto& [engine, results] : state["proofs"].items())
    for (const auto& r : results) {
      const std::string st = r["status"];
      proved += st == "proved";
      refuted += st == "refuted";
      known += st == "known";
      unknown += st == "unknown";
    }
  s["proofs"] = {{"proved", proved}, {"refuted", refuted}, {"known", known}, {"unknown", unknown}};
  std::uint64_t points = 0, compared = 0, divergences = 0;
  for (const auto& [key, r] : state["exhaust"].items()) {
    points += r["points"].get<std::uint64_t>();
    compared += r["compared"].get<std::uint64_t>();
    divergences += r["divergences"].get<std::uint64_t>();
  }
  s["exhaust"] = {{"spaces_run", state["exhaust"].size()}, {"points", points}, {"compared", compared},
                  {"divergences", divergences}};
  s["random_cases"] = state["random"]["cases"];
  unsigned caught = 0, zoo = 0;
  for (const auto& [name, z] : state["bug_zoo"].items()) {
    ++zoo;
    const std::string st = z["status"];
    caught += st == "caught" || st.starts_with("known finding");
  }
  s["bug_zoo"] = {{"mutants", zoo}, {"caught", caught}};
  unsigned open = 0;
  for (const auto& e : store.entries()) open += e.status == "new";
  s["divergences"] = {{"signatures", store.entries().size()}, {"new", open}};
  unsigned rules_checked = 0, rules_fired = 0;
  const json& ref_cov = state["coverage"].contains("ref") ? state["coverage"]["ref"] : json::object();
  for (const mmu::RuleInfo& ri : mmu::all_rules()) {
    rules_checked += ref_cov.value("checked", json::object()).value(std::string(ri.id), 0) > 0;
    rules_fired += ref_cov.value("fired", json::object()).value(std::string(ri.id), 0) > 0;
  }
  s["rules"] = {{"total", mmu::all_rules().size()}, {"checked", rules_checked}, {"fired", rules_fired}};
  std::uint64_t fuzz_execs = 0, fuzz_divergences = 0, fuzz_crashes = 0;
  for (const auto& [name, t] : state["fuzz"]["targets"].items()) {
    fuzz_execs += t["execs"].get<std::uint64_t>();
    fuzz_divergences += t["divergences"].get<std::uint64_t>();
    for (const auto& c : t["crashes"]) fuzz_crashes += c.value("status", "new") == "new";
  }
  s["fuzz"] = {{"targets", state["fuzz"]["targets"].size()}, {"execs", fuzz_execs},
               {"divergences", fuzz_divergences}, {"crashes", fuzz_crashes}};
  std::uint64_t oracle_compared = 0, oracle_agree = 0;
  for (const auto& [name, o] : state["oracles"].items()) {
    oracle_compared += o.value("compared", std::uint64_t{0});
    oracle_agree += o.value("agree", std::uint64_t{0});
  }
  s["oracles"] = {{"compared", oracle_compared}, {"agree", oracle_agree}};
  s["seconds_total"] = state["seconds_total"];
  return s;
}

constexpr const char* kHtml = R"HTML(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>mmucheck campaign report</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em;max-width:80em;color:#222}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ddd;padding:.25em .6em;text-align:left;vertical-align:top}
th{background:#f4f4f4}.num{text-align:right;font-variant-numeric:tabular-nums}
.bad{color:#b00;font-weight:bold}.ok{color:#070}pre{background:#f8f8f8;padding:.6em;overflow:auto;font-size:12px}
.cards{display:flex;flex-wrap:wrap;gap:1em}.card{border:1px solid #ddd;border-radius:6px;padding:.6em 1em;min-width:10em}
.card b{display:block;font-size:1.6em}
</style></head><body>
<h1>mmucheck campaign report</h1>
<p id="meta"></p>
<div class="cards" id="summary"></div>
<h2>Divergences</h2><div id="divergences"></div>
<h2>Proofs</h2><div id="proofs"></div>
<h2>Exhaustive spaces</h2><div id="exhaust"></div>
<h2>Bug zoo</h2><div id="zoo"></div>
<h2>Oracles</h2><div id="oracles"></div>
<h2>Random cases</h2><div id="random"></div>
<h2>Coverage-guided fuzzing</h2><div id="fuzz"></div>
<h2>Rule coverage</h2><div id="coverage"></div>
<script type="application/json" id="data">@DATA@</script>
<script>
const R = JSON.parse(document.getElementById('data').textContent);
const esc = s => String(s).replace(/[&<>"]/g, c => ({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;'}[c]));
const num = n => Number(n).toLocaleString('en-US');
function table(head, rows, numeric) {
  let h = '<table><tr>' + head.map(x => '<th>' + esc(x) + '</th>').join('') + '</tr>';
  for (const r of rows) h += '<tr>' + r.map((x, i) => '<td' + (numeric && numeric.includes(i) ? ' class="num"' : '') + '>' + x + '</td>').join('') + '</tr>';
  return h + '</table>';
}
const S = R.summary;
document.getElementById('meta').textContent = 'written ' + R.written + ', ' + S.seconds_total.toFixed(1) + ' s of campaign time over ' + R.runs.length + ' run(s); engines compared with the reference: ' + R.runs[R.runs.length-1].engines.join(', ');
const cards = [['new divergences', S.divergences.new, S.divergences.new ? 'bad' : 'ok'], ['divergence signatures', S.divergences.signatures], ['theorems proved', S.proofs.proved], ['theorems refuted', S.proofs.refuted, S.proofs.refuted ? 'bad' : ''], ['exhaustive points compared', num(S.exhaust.compared)], ['random cases', num(S.random_cases)], ['bug-zoo mutants caught', S.bug_zoo.caught + ' / ' + S.bug_zoo.mutants], ['rules checked', S.rules.checked + ' / ' + S.rules.total], ['oracle cases agreeing', num(S.oracles.agree) + ' / ' + num(S.oracles.compared)], ['fuzz executions', num(S.fuzz.execs)], ['fuzz target crashes', S.fuzz.crashes, S.fuzz.crashes ? 'bad' : 'ok']];
document.getElementById('summary').innerHTML = cards.map(([k, v, c]) => '<div class="card"><b class="' + (c||'') + '" data-key="' + esc(k) + '">' + esc(v) + '</b>' + esc(k) + '</div>').join('');
document.getElementById('divergences').innerHTML = R.divergences.length ? R.divergences.map(d =>
  '<h3>' + esc(d.id) + ' <span class="' + (d.status === 'new' ? 'bad' : '') + '">' + esc(d.status) + '</span>: ' + esc(d.signature) + '</h3>' +
  '<p>engines ' + esc(d.engines) + ', seen ' + d.count + ' times, first ' + esc(d.first_seen) + '. Replay: <code>mmucheck replay --engines ' + esc(d.engines) + ' ' + esc(d.minimized_path) + '</code></p>' +
  '<pre>' + esc(d.minimized_replay) + '</pre>').join('') : '<p class="ok">none</p>';
const proofRows = [];
for (const [engine, results] of Object.entries(R.proofs)) for (const t of results) proofRows.push([esc(engine), esc(t.theorem), '<span class="' + (t.status === 'refuted' ? 'bad' : t.status === 'proved' ? 'ok' : '') + '">' + esc(t.status) + '</span>', t.seconds.toFixed(3), esc(t.detail || '')]);
document.getElementById('proofs').innerHTML = proofRows.length ? table(['engine', 'theorem', 'status', 'seconds', 'detail'], proofRows, [3]) : '<p>no proofs run yet</p>';
document.getElementById('exhaust').innerHTML = table(['engine / space', 'points', 'compared', 'unsupported', 'divergences', 'known findings', 'seconds'],
  Object.entries(R.exhaust).map(([k, r]) => [esc(k), num(r.points), num(r.compared), num(r.unsupported), '<span class="' + (r.divergences ? 'bad' : '') + '">' + num(r.divergences) + '</span>', esc(Object.entries(r.known).map(([id, n]) => id + ': ' + n).join(', ')), r.seconds.toFixed(2)]), [1, 2, 3, 4, 6]);
document.getElementById('zoo').innerHTML = table(['mutant', 'fix', 'status', 'what it did'], Object.entries(R.bug_zoo).map(([m, z]) => [esc(m), esc(z.commit), '<span class="' + (z.status === 'caught' ? 'ok' : z.status.startsWith('known') ? '' : 'bad') + '">' + esc(z.status) + '</span>', esc(z.description)]));
const kv = o => esc(Object.entries(o || {}).map(([k, n]) => k + ': ' + n).join('; '));
document.getElementById('oracles').innerHTML = R.oracles.length ? '<p>Random guest-paging cases through the probe image (replay/probe/) on each emulator, against the reference. Known deviations are documented in corpus/known-deviations/.</p>' +
  table(['oracle', 'status', 'cases', 'agree', 'divergences', 'known deviations', 'unsupported', 'why unsupported', 'cases/s'], R.oracles.map(o => [esc(o.name), esc(o.status), num(o.cases), num(o.agree), '<span class="' + (o.divergences ? 'bad' : '') + '">' + num(o.divergences) + '</span>', kv(o.known), num(o.unsupported), kv(o.unsupported_reasons), o.seconds > 0 ? num(Math.round(o.cases / o.seconds)) : '']), [2, 3, 4, 6, 8]) : '<p>no oracle checked yet</p>';
const rnd = R.random, eng = Object.entries(rnd.engines);
document.getElementById('random').innerHTML = '<p>' + num(rnd.cases) + ' structured random cases (fuzz/decoder.h), each through the reference and every engine.</p>' +
  table(['engine', 'compared', 'unsupported', 'divergences', 'known findings'], eng.map(([e, r]) => [esc(e), num(r.compared || 0), num(r.unsupported || 0), num(r.divergences || 0), esc(Object.entries(r.known || {}).map(([id, n]) => id + ': ' + n).join(', '))]), [1, 2, 3]) + chart(R.timeline, 'execs_per_second', 'execs/s', 'rules_checked', 'rules checked', R.summary.rules.total);
const F = R.fuzz, ft = Object.entries(F.targets);
document.getElementById('fuzz').innerHTML = ft.length ?
  '<p>libFuzzer targets (fuzz/) run as processes beside the other phases, in rotation; their corpora persist in the campaign directory. A divergence a target finds is stored above like any other; a crash without one is a crash of mmucheck itself.</p>' +
  table(['target', 'runs', 'seconds', 'executions', 'last execs/s', 'edges covered', 'divergences', 'crashes', 'last error'], ft.map(([n, t]) => [esc(n), t.runs, t.seconds.toFixed(0), num(t.execs), num(Math.round(t.last_execs_per_second || 0)), num(t.coverage), num(t.divergences), '<span class="' + (t.crashes.length ? 'bad' : '') + '">' + t.crashes.length + '</span>' + t.crashes.map(c => '<br><code>' + esc(c.input) + '</code>').join(''), esc(t.last_error || '')]), [1, 2, 3, 4, 5, 6]) +
  chart(F.timeline, 'execs_per_second', 'execs/s of each run', 'coverage', 'edges covered at its end')
  : '<p>not run: no libFuzzer build (<code>cmake --preset fuzz && cmake --build --preset fuzz</code>, then <code>--fuzzers build/fuzz/fuzz</code>)</p>';
// Two series over campaign time, each scaled to its own maximum (or `max2`).
function chart(tl, k1, label1, k2, label2, max2) {
  if (tl.length < 2) return '<p>(too few samples for a chart)</p>';
  const W = 720, H = 180, P = 40, t0 = tl[0].t, t1 = tl[tl.length - 1].t || 1;
  const line = (key, max, color) => '<polyline fill="none" stroke="' + color + '" stroke-width="2" points="' + tl.map(p => (P + (p.t - t0) / Math.max(t1 - t0, 1e-9) * (W - 2 * P)).toFixed(1) + ',' + (H - P - p[key] / (max || 1) * (H - 2 * P)).toFixed(1)).join(' ') + '"/>';
  const m1 = Math.max(...tl.map(p => p[k1])), m2 = max2 || Math.max(...tl.map(p => p[k2]));
  return '<svg width="' + W + '" height="' + H + '" role="img" aria-label="' + esc(label1 + ' and ' + label2) + ' over time">' +
    '<rect x="' + P + '" y="' + P + '" width="' + (W - 2 * P) + '" height="' + (H - 2 * P) + '" fill="none" stroke="#ccc"/>' +
    line(k1, m1, '#36c') + line(k2, m2, '#c63') +
    '<text x="' + P + '" y="' + (P - 8) + '" fill="#36c">' + esc(label1) + ' (max ' + num(Math.round(m1)) + ')</text>' +
    '<text x="' + (W / 2) + '" y="' + (P - 8) + '" fill="#c63">' + esc(label2) + ' (max ' + num(Math.round(m2)) + ')</text>' +
    '<text x="' + P + '" y="' + (H - 10) + '">campaign time ' + t0.toFixed(0) + ' s to ' + t1.toFixed(0) + ' s</text></svg>';
}
const covEngines = R.coverage.length ? Object.keys(R.coverage[0].engines) : [];
document.getElementById('coverage').innerHTML = '<p>Per rule, over the random cases: how many reference walks evaluated it (checked) and how many it decided or changed (fired); then the same over only the cases each engine was compared on (an engine that reports a case unsupported is not checked by it). The KVM-style engines decide through tables, not rules, so each case is attributed the rules the reference applied to it.</p>' +
  table(['rule', 'SDM', 'ref: checked', 'fired'].concat(...covEngines.map(e => [e + ': checked', 'fired'])), R.coverage.map(c => [esc(c.id), esc(c.sdm), '<span class="' + (c.checked ? '' : 'bad') + '">' + num(c.checked) + '</span>', num(c.fired)].concat(...covEngines.map(e => ['<span class="' + (c.engines[e].checked ? '' : 'bad') + '">' + num(c.engines[e].checked) + '</span>', num(c.engines[e].fired)]))), [...Array(2 + 2 * covEngines.length).keys()].map(i => i + 2));
</script></body></html>
)HTML";

}  // namespace

json write_report(const std::filesystem::path& dir, const json& state, const DivergenceStore& store) {
  json r;
  r["written"] = utc_now();
  r["summary"] = summary(state, store);
  r["runs"] = state["runs"];
  r["proofs"] = state["proofs"];
  r["exhaust"] = state["exhaust"];
  r["bug_zoo"] = state["bug_zoo"];
  r["random"] = state["random"];
  r["timeline"] = state["timeline"];
  r["fuzz"] = state["fuzz"];
  r["oracles"] = json::array();
  for (const auto& [name, o] : state["oracles"].items()) {
    json row = o;
    row["name"] = name;
    r["oracles"].push_back(row);
  }
  // Per rule: the reference's counts at the top, each engine's under "engines".
  auto count = [&](const std::string& engine, const char* what, std::string_view id) -> std::uint64_t {
    const json& cov = state["coverage"];
    if (!cov.contains(engine) || !cov[engine].contains(what)) return 0;
    return cov[engine][what].value(std::string(id), std::uint64_t{0});
  };
  json coverage = json::array();
  for (const mmu::RuleInfo& ri : mmu::all_rules()) {
    json per_engine = json::object();
    for (const auto& [engine, cov] : state["coverage"].items())
      if (engine != "ref")
        per_engine[engine] = {{"checked", count(engine, "checked", ri.id)}, {"fired", count(engine, "fired", ri.id)}};
    coverage.push_back({{"id", ri.id}, {"sdm", ri.sdm}, {"checked", count("ref", "checked", ri.id)},
                        {"fired", count("ref", "fired", ri.id)}, {"engines", per_engine}});
  }
  r["coverage"] = coverage;
  json divergences = json::array();
  for (const auto& e : store.entries()) {
    const auto min_path = store.dir() / e.minimized_file;
    divergences.push_back({{"id", e.id}, {"signature", e.signature}, {"engines", e.engines}, {"status", e.status},
                           {"reason", e.reason}, {"count", e.count}, {"first_seen", e.first_seen},
                           {"case_path", (store.dir() / e.case_file).string()}, {"minimized_path", min_path.string()},
                           {"minimized_replay", replay_text(min_path, e.engines)}});
  }
  r["divergences"] = divergences;
  write_file_atomic(dir / "report.json", r.dump(1) + "\n");
  // "</" cannot close the embedding script element: JSON allows "<\/".
  std::string data = r.dump();
  for (std::size_t p = 0; (p = data.find("</", p)) != std::string::npos; p += 3) data.replace(p, 2, "<\\/");
  std::string html = kHtml;
  html.replace(html.find("@DATA@"), 6, data);
  write_file_atomic(dir / "report.html", html);
  return r;
}

}  // namespace mmucheck
