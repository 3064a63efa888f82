// Drives the ffbatch dashboard in Debian's headless Chromium through
// playwright-core, for e2e/dashboard_test.go, which starts it with one
// JSON argument: {url, good: [blob...], bad: blob, screenshot, phoneScreenshot}.
//
// Protocol: it opens the page and prints "READY" once the first refresh
// has drawn it; the Go test then drops the files. Once the page has shown
// every file in flight (queued, submitted or running) it prints
// "IN-FLIGHT", and the Go test starts running SweepPools, which records
// the answers. It watches the rows change without reloading, filters, checks the markup, saves screenshots,
// prints "REASON <text>" for the failed file and "PASS", and exits 0; any
// failed check throws (exit 1 with the reason on stderr).
//
// Chromium is started with chromium.launch, executablePath /usr/bin/chromium
// and exactly the flags below; Playwright adds a fresh --user-data-dir of
// its own under TMPDIR (a temporary directory the Go test owns; passing
// --user-data-dir in args is refused by chromium.launch).
import { chromium } from "playwright-core";

const cfg = JSON.parse(process.argv[2]);
const flags = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const terminal = new Set(["succeeded", "failed", "rejected", "ignored"]);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function check(ok, message) {
  if (!ok) throw new Error(message);
}

async function waitFor(what, fn, timeoutMs = 90000) {
  const end = Date.now() + timeoutMs;
  let last;
  while (Date.now() < end) {
    last = await fn();
    if (last && last.ok) return last;
    await sleep(250);
  }
  throw new Error(`timed out waiting for ${what}: ${JSON.stringify(last)}`);
}

const rowStates = (page) => page.$$eval("#rows tr[data-blob]", (trs) => trs.map((tr) => [tr.dataset.blob, tr.dataset.state]));

const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: flags, headless: true, timeout: 60000 });
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const problems = [];
  page.on("pageerror", (e) => problems.push("page error: " + e.message));
  page.on("console", (m) => { if (m.type() === "error") problems.push("console: " + m.text()); });
  await page.goto(cfg.url, { waitUntil: "load" });
  await waitFor("the first refresh", async () => ({ ok: /^Updated/.test(await page.textContent("#updated")), text: await page.textContent("#updated") }), 30000);
  let navigations = 0;
  page.on("framenavigated", (f) => { if (f === page.mainFrame()) navigations++; });
  const marker = await page.evaluate(() => (window.__loaded = crypto.randomUUID()));
  console.log("READY");

  // Rows move from queued/submitted/running to their answers, live.
  const seen = {};
  let maxNodes = 0;
  const files = [...cfg.good, cfg.bad];
  const record = async () => {
    for (const [blob, state] of await rowStates(page)) {
      const h = (seen[blob] ||= []);
      if (h[h.length - 1] !== state) h.push(state);
    }
  };
  await waitFor("every file shown in flight", async () => {
    await record();
    return { ok: files.every((b) => seen[b] && seen[b].some((s) => !terminal.has(s))), seen };
  });
  console.log("IN-FLIGHT");
  await waitFor("every file answered", async () => {
    await record();
    maxNodes = Math.max(maxNodes, await page.locator("#heatmap li[class^=heat-]").count());
    const done = cfg.good.every((b) => seen[b] && seen[b].at(-1) === "succeeded") && seen[cfg.bad] && seen[cfg.bad].at(-1) === "failed";
    return { ok: done, seen };
  });
  for (const b of cfg.good) {
    const h = seen[b];
    check(h.some((s) => !terminal.has(s)) && h.indexOf("succeeded") > h.findIndex((s) => !terminal.has(s)),
      `${b} went ${h.join(" → ")}: want queued, submitted or running before succeeded`);
  }
  check(navigations === 0 && (await page.evaluate(() => window.__loaded)) === marker, "the page navigated or reloaded while refreshing");
  check(maxNodes > 0, "the heat map never showed a node");
  check((await page.locator("#chart rect.ok").count()) > 0, "the throughput chart shows no success");
  const recent = await page.locator("#events li").allTextContents();
  check(recent.some((t) => t.includes(cfg.bad) && t.includes("failed")), "last results lack the failed file: " + recent.join(" | "));

  // A succeeded row links to its MP3 with a read-only SAS, never a key.
  const mp3 = await page.locator(`#rows tr[data-blob="${cfg.good[0]}"] a`, { hasText: "MP3" }).getAttribute("href");
  check(/[?&]sp=r(&|$)/.test(mp3) && /[?&]sig=/.test(mp3) && /[?&]se=/.test(mp3), "MP3 link is not a read SAS: " + mp3);

  // Filter to the failed file and read its reason.
  await page.selectOption("#f-state", "failed");
  await waitFor("only the failed file", async () => {
    const rows = await rowStates(page);
    return { ok: rows.length === 1 && rows[0][0] === cfg.bad && rows[0][1] === "failed", rows };
  }, 20000);
  const reason = (await page.textContent(`#rows tr[data-blob="${cfg.bad}"] .reason`)).trim();
  check(/ffmpeg/.test(reason), "the failed file's reason does not name ffmpeg: " + reason);
  check((await page.locator(`#rows tr[data-blob="${cfg.bad}"] details pre`).count()) === 1, "no ffmpeg stderr excerpt for the failed file");
  console.log("REASON " + reason);
  await page.selectOption("#f-state", "");
  await page.fill("#f-prefix", cfg.good[0]);
  await waitFor("the prefix filter", async () => {
    const rows = await rowStates(page);
    return { ok: rows.length === 1 && rows[0][0] === cfg.good[0], rows };
  }, 20000);
  await page.fill("#f-prefix", "");
  await waitFor("every file again", async () => ({ ok: (await rowStates(page)).length === cfg.good.length + 1 }), 20000);

  // Markup: headings, table semantics, labels.
  const a11y = await page.evaluate(() => ({
    h1: document.querySelectorAll("h1").length,
    h2: document.querySelectorAll("h2").length,
    colHeaders: document.querySelectorAll("#files thead th[scope=col]").length,
    rows: document.querySelectorAll("#rows tr[data-blob]").length,
    rowHeaders: document.querySelectorAll("#rows tr[data-blob] > th[scope=row]").length,
    caption: !!document.querySelector("#files caption"),
    unlabelled: ["f-container", "f-prefix", "f-state"].filter((id) => !document.querySelector(`label[for="${id}"]`)),
  }));
  check(a11y.h1 === 1 && a11y.h2 >= 4, "headings: " + JSON.stringify(a11y));
  check(a11y.colHeaders === 10 && a11y.rows > 0 && a11y.rowHeaders === a11y.rows && a11y.caption, "table semantics: " + JSON.stringify(a11y));
  check(a11y.unlabelled.length === 0, "filters without labels: " + a11y.unlabelled.join(", "));

  // Keyboard: Tab reaches the name filter, which shows a visible focus ring.
  await page.evaluate(() => document.activeElement && document.activeElement.blur());
  let focused = "";
  for (let i = 0; i < 40 && focused !== "f-prefix"; i++) {
    await page.keyboard.press("Tab");
    focused = await page.evaluate(() => document.activeElement && document.activeElement.id);
  }
  check(focused === "f-prefix", "Tab never reached the name filter");
  const ring = await page.evaluate(() => { const s = getComputedStyle(document.activeElement); return { style: s.outlineStyle, width: parseFloat(s.outlineWidth) }; });
  check(ring.style !== "none" && ring.width >= 2, "no visible focus on the name filter: " + JSON.stringify(ring));
  await sleep(2500); // a refresh while focused keeps the focus
  check((await page.evaluate(() => document.activeElement.id)) === "f-prefix", "a refresh took the keyboard focus away");
  await page.evaluate(() => document.activeElement.blur());

  // Readable at 1280×800 and at phone width.
  check((await page.evaluate(() => document.documentElement.scrollWidth)) <= 1280, "the page scrolls sideways at 1280 px");
  await page.screenshot({ path: cfg.screenshot, fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await sleep(300);
  const phone = await page.evaluate(() => ({ page: document.documentElement.scrollWidth, wrap: getComputedStyle(document.querySelector(".table-wrap")).overflowX }));
  check(phone.page <= 391 && phone.wrap === "auto", "at 390 px the page scrolls sideways or the table does not scroll: " + JSON.stringify(phone));
  await page.screenshot({ path: cfg.phoneScreenshot, fullPage: true });

  check(problems.length === 0, "the page reported errors: " + problems.join("; "));
  console.log("PASS");
} finally {
  await browser.close();
}
