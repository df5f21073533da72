// nnplay's live run view: a Streamlit v2 component mounted by nnplay.ui.live_run_view.
//
// It shows a run's status line, a progress bar with its text, the run's Plotly charts side by side
// and a caption. While the run trains, the data names a JSON file (written by nnplay.live.LiveFeed)
// that this component fetches every period_ms and draws in place: no Streamlit rerun, so the
// browser does not re-render the page twice a second. Charts are updated with Plotly.react on the
// same <div>, which keeps the user's zoom and pan while layout.uirevision stays the same, and a
// chart whose figure did not change is not redrawn. When the snapshot says the run is no longer
// active, the component sets the trigger "ended", which reruns the page once to show the outcome; when
// the snapshot's status is not the one the page was drawn with (data.run_status: the sidebar's, read first in
// the script run, so a change while the page was drawn counts too), it sets "status", one rerun, so the
// sidebar and the runs list say what the view says.
// A finished run comes as data.snapshot and is drawn once (with data.run_status when the sidebar still said it
// trained: one "status" rerun).
//
// plotly.js is the copy inside the installed plotly package, loaded once per page from
// data.plotly_url (Streamlit serves it as a static file).
//
// data: {url?: string, initial?: string, snapshot?: object, plotly_url: string, period_ms?: number,
// calm_period_ms?: number, run: number, scroll?: bool, bare?: bool, clickable?: bool, run_status?: string} (initial: the url's JSON text when the page was drawn, shown before
// the first fetch; clickable: a click on a point sets the trigger "click" to {curve, point})
// (scroll: scroll the view into the window once for this run, as it starts; bare: only the charts)
// snapshot: {version, active, title, status, fraction, progress, figures: [JSON string | {url, heavy}], caption, error?,
// busy?, calm?} (busy: the run trains at full speed, its heavy figures rest, see HEAVY_REST; calm: busy or queued while
// training takes every core of the machine, nnplay.runs.Run.calm: the next fetch comes calm_period_ms after this one, not period_ms)
// (a figure given as {url}: a file beside the snapshot's, fetched only when it is drawn; see nnplay/ui/feed.py)
// (a figure with layout.meta.wide spans the whole width; when a snapshot has fewer figures, the extra charts go)

// loadPlotly and themeText come from plotly_loader.js, which nnplay.ui.live.component_js puts before this file.
const STATES = new WeakMap();

// Streamlit's theme colours and font, so the charts follow the app's theme as st.plotly_chart does
function themed(layout, el) {
  const { color: text, family: font } = themeText(el); // plotly_loader.js
  const grid = "rgba(128, 128, 128, 0.22)";
  // "allow": Plotly otherwise measures every tick label on every redraw to hide those past the edge
  const axis = (a) => ({ gridcolor: grid, zerolinecolor: grid, linecolor: grid, ticklabeloverflow: "allow", ...a });
  const out = {
    paper_bgcolor: "rgba(0,0,0,0)",
    plot_bgcolor: "rgba(0,0,0,0)",
    ...layout,
    font: { family: font, color: text, size: 12, ...(layout.font || {}) },
  };
  for (const key of Object.keys(out)) {
    if (/^[xy]axis\d*$/.test(key)) out[key] = axis(out[key]);
  }
  return out;
}

function build(root) {
  root.innerHTML = `
    <div class="nnplay-live-status"></div>
    <div class="nnplay-live-progress" role="progressbar" aria-valuemin="0" aria-valuemax="100">
      <div class="nnplay-live-progress-text"></div>
      <div class="nnplay-live-track"><div class="nnplay-live-fill"></div></div>
    </div>
    <div class="nnplay-live-charts"></div>
    <div class="nnplay-live-caption"></div>
    <div class="nnplay-live-error"></div>`;
  const q = (name) => root.querySelector(`.nnplay-live-${name}`);
  return {
    root,
    status: q("status"),
    progress: q("progress"),
    progressText: q("progress-text"),
    fill: q("fill"),
    charts: q("charts"),
    caption: q("caption"),
    error: q("error"),
    plots: [],
    inView: new WeakMap(), // chart → whether it is within 200 px of the window (unknown: drawn)
    sight: null, // the IntersectionObserver of the charts, and the page's visibility listener
    onVisible: null,
    latest: null, // the newest snapshot's figures: what a chart that comes into view draws
    restUntil: 0, // no drawing before this (performance.now()): see REST
    heavyRestUntil: 0, // no heavy figure redrawn before this while the run is busy: see HEAVY_REST
    heavyTimer: null, // draws the heavy figures left waiting once their rest is over
    base: null, // the polled snapshot's URL: detached figures are fetched beside it
    dataTexts: [], // each chart's data as last drawn (JSON), and its layout.datarevision
    revisions: [],
    shownFigures: [],
    frames: [],
    shownVersion: null,
    url: null,
    timer: null,
    fetching: false,
    ended: null,
    drawnStatus: null, // the run's status the page was drawn with, and the one a rerun was asked for
    askedStatus: null,
    gone: false,
    pending: null,
    drawing: false,
    clickable: false, // bare figures: a click on a point sets the trigger "click"
    setTrigger: null,
    failures: 0,
  };
}

// A chart out of sight (scrolled away, or the tab hidden) is not redrawn: its newest figure waits and is
// drawn when it comes into view: tabs nobody looks at would otherwise take the training's CPU (scripts/bench_load.py).
function inSight(state, plot) {
  return !document.hidden && state.inView.get(plot) !== false;
}

function drawWhatCameIntoView(state) {
  if (state.latest && !state.gone) {
    state.pending = state.pending || state.latest;
    if (!state.drawing) drawPending(state);
  }
}

function watchSight(state, plot) {
  if (!state.sight) {
    state.sight = new IntersectionObserver((entries) => {
      let back = false;
      for (const entry of entries) {
        back = back || (entry.isIntersecting && state.inView.get(entry.target) === false);
        state.inView.set(entry.target, entry.isIntersecting);
      }
      if (back) drawWhatCameIntoView(state);
    }, { rootMargin: "200px" });
    state.onVisible = () => {
      if (!document.hidden) drawWhatCameIntoView(state);
    };
    document.addEventListener("visibilitychange", state.onVisible);
  }
  state.sight.observe(plot);
}

// Returns whether a heavy figure was left for later (see HEAVY_REST).
// A range the figure sets (the loss chart's x grows with the steps trained) would undo the user's zoom on the
// next Plotly.react, as uirevision keeps only what the figure leaves as it was: the axes the user zoomed or
// panned keep the user's range until a double-click gives them back or another run's chart comes.
function keepUserZoom(plot, layout) {
  if (plot.nnplayRevision !== layout.uirevision) plot.nnplayZoomed = {};
  plot.nnplayRevision = layout.uirevision;
  for (const key of Object.keys(plot.nnplayZoomed || {})) {
    const shown = plot._fullLayout && plot._fullLayout[key];
    if (shown && Array.isArray(shown.range)) layout[key] = { ...(layout[key] || {}), range: shown.range.slice(), autorange: false };
  }
}

function watchUserZoom(plot) {
  if (plot.nnplayZoomWatch || !plot.on) return;
  plot.nnplayZoomWatch = true;
  plot.on("plotly_relayout", (event) => {
    for (const key of Object.keys(event || {})) {
      const match = /^([xy]axis\d*)\.(range|autorange)/.exec(key);
      if (!match) continue;
      plot.nnplayZoomed = plot.nnplayZoomed || {};
      if (match[2] === "autorange") delete plot.nnplayZoomed[match[1]];
      else plot.nnplayZoomed[match[1]] = true;
    }
  });
}

async function drawFigures(state, figures, plotlyUrl, busy) {
  const Plotly = await loadPlotly(plotlyUrl);
  let deferred = false;
  let heavyMs = 0;
  while (state.plots.length < figures.length) {
    const div = document.createElement("div");
    div.className = "nnplay-live-chart";
    state.charts.appendChild(div);
    state.plots.push(div);
    watchSight(state, div);
  }
  while (state.plots.length > figures.length) {
    // fewer figures than before (the watch figures were switched off): their charts go
    const div = state.plots.pop();
    if (state.sight) state.sight.unobserve(div);
    if (window.Plotly) window.Plotly.purge(div);
    div.remove();
    state.shownFigures.length = state.plots.length;
    state.frames.length = state.plots.length;
    state.dataTexts.length = state.plots.length;
    state.revisions.length = state.plots.length;
  }
  for (let i = 0; i < figures.length; i++) {
    const entry = figures[i];
    const shown = typeof entry === "string" ? entry : entry.url; // a detached figure's name says its content
    if (state.gone || state.shownFigures[i] === shown) continue;
    const plot = state.plots[i];
    if (plot._fullLayout && !inSight(state, plot)) continue; // drawn once, now out of sight: later
    const resting = busy && plot._fullLayout && performance.now() < state.heavyRestUntil;
    if (typeof entry !== "string" && entry.heavy && resting) {
      deferred = true; // drawn before, and the run trains at full speed: its newest figure waits, unfetched
      continue;
    }
    const text = typeof entry === "string" ? entry : await fetchFigure(state, entry.url);
    if (text === null || state.gone) continue; // replaced meanwhile (or the server is busy): the next snapshot's
    const figure = JSON.parse(text);
    const heavy = Boolean(figure.layout && figure.layout.meta && figure.layout.meta.heavy);
    if (heavy && resting) {
      deferred = true; // drawn before, and the run trains at full speed: its newest figure waits
      continue;
    }
    plot.style.height = `${(figure.layout && figure.layout.height) || 450}px`; // contain: strict needs a size
    // a figure whose layout.meta says wide (the network view) takes the whole row
    plot.style.gridColumn = figure.layout && figure.layout.meta && figure.layout.meta.wide ? "1 / -1" : "";
    const t0 = performance.now();
    const data = figure.data || [];
    const layout = figure.layout || {};
    // Same layout and trace styles as the chart shows, and every axis with a set range: only the
    // curves changed, and Plotly.animate without redraw moves them without redrawing axes, legend
    // and title (half the cost of Plotly.react). Anything else: Plotly.react.
    const frame = JSON.stringify([layout, data.map(({ x, y, ...style }) => style)]);
    const axes = Object.keys(layout).filter((key) => /^[xy]axis\d*$/.test(key));
    const still = axes.length > 0 && axes.every((key) => Array.isArray(layout[key].range));
    if (still && state.frames[i] === frame && plot._fullLayout) {
      await Plotly.animate(plot, { data: data.map(({ x, y }) => ({ x, y })), traces: data.map((_, k) => k) },
        { transition: { duration: 0 }, frame: { duration: 0, redraw: false }, mode: "immediate" });
      plot.dataset.moved = String(Number(plot.dataset.moved || 0) + 1);
      state.dataTexts[i] = null; // the data shown is no longer the last react's
    } else {
      // layout.datarevision: Plotly.react then skips the data arrays unless they changed, so a figure whose
      // labels alone changed (the probe digits' answers) is not recomputed from its pixels
      const dataText = JSON.stringify(data);
      if (state.dataTexts[i] !== dataText) {
        state.dataTexts[i] = dataText;
        state.revisions[i] = (state.revisions[i] || 0) + 1;
      }
      const themedLayout = { ...themed(layout, plot), datarevision: state.revisions[i] };
      keepUserZoom(plot, themedLayout);
      await Plotly.react(plot, data, themedLayout, { responsive: true, displaylogo: false });
      watchUserZoom(plot);
      state.frames[i] = frame;
      if (state.clickable && !plot.nnplayClicks) {
        // a click on a point reruns the page with {curve, point} (ui.live.plotly_figure(clickable=True))
        plot.nnplayClicks = true;
        plot.on("plotly_click", (event) => {
          const point = event && event.points && event.points[0];
          if (point && state.setTrigger) state.setTrigger("click", { curve: point.curveNumber, point: point.pointIndex });
        });
      }
    }
    state.shownFigures[i] = shown;
    const ms = performance.now() - t0;
    if (heavy) heavyMs += ms + (await paintMs());
    // for tests and benchmarks: how often each chart was drawn, and the milliseconds that took
    plot.dataset.draws = String(Number(plot.dataset.draws || 0) + 1);
    plot.dataset.drawMs = (Number(plot.dataset.drawMs || 0) + ms).toFixed(1);
  }
  if (heavyMs > 0) state.heavyRestUntil = performance.now() + HEAVY_REST * heavyMs;
  return deferred;
}

// A detached figure's JSON text, from the file named beside the snapshot's (null if it is gone already).
async function fetchFigure(state, name) {
  try {
    // its name is a hash of its content: the browser's cache may keep it
    const response = await fetch(new URL(name, new URL(state.base, window.location.href)));
    return response.ok ? await response.text() : null;
  } catch (err) {
    return null;
  }
}

function show(state, snap, plotlyUrl) {
  if (snap.version !== undefined && snap.version === state.shownVersion) return;
  state.shownVersion = snap.version;
  state.root.dataset.shown = String(Number(state.root.dataset.shown || 0) + 1); // for tests and benchmarks
  // only what changed is written: every write means style and layout work for the browser
  const status = snap.status ? ` — ${snap.status}` : "";
  if (state.status.dataset.title !== (snap.title || "") || state.status.dataset.text !== status) {
    state.status.dataset.title = snap.title || "";
    state.status.dataset.text = status;
    const name = document.createElement("strong");
    name.textContent = snap.title || "";
    state.status.replaceChildren(name, document.createTextNode(status));
  }
  const pct = (Math.max(0, Math.min(1, Number(snap.fraction) || 0)) * 100).toFixed(1);
  if (state.progress.getAttribute("aria-valuenow") !== pct) {
    state.fill.style.width = `${pct}%`;
    state.progress.setAttribute("aria-valuenow", pct);
  }
  setText(state.progressText, snap.progress || "");
  setText(state.caption, snap.caption || "");
  setText(state.error, snap.error ? `The live view could not be updated: ${snap.error}` : "");
  // one drawing at a time; a snapshot that arrives meanwhile replaces any older one still waiting
  state.pending = { figures: snap.figures || [], plotlyUrl, busy: Boolean(snap.busy) };
  state.latest = state.pending;
  if (!state.drawing) drawPending(state);
}

// Drawing charts takes at most about a quarter of the page's time: after a drawing that took t ms, the next
// waits REST × t ms (the text and the progress bar still change at once). On a fast machine a drawing takes
// a few ms and nothing waits; on a busy one, heavy charts are redrawn less often instead of taking its CPU.
const REST = 3;
// Heavy figures (layout.meta.heavy: the watch pictures, the slowest to draw and paint) while the run trains
// at full speed (snapshot.busy): after drawing them took t ms, paint included, they are redrawn after
// HEAVY_REST × t ms at the soonest, so they take at most ~4% of a core. A core's time
// taken from a run that trains with 2 threads costs it about twice that (its threads wait for each other):
// scripts/bench_train_page.py measures the page's cost. A fast machine draws them every second, as often as the
// server makes them. Paused, stepped or slowed, they are redrawn with every snapshot.
const HEAVY_REST = 25;

async function drawPending(state) {
  state.drawing = true;
  try {
    while (state.pending && !state.gone) {
      const wait = state.restUntil - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      if (state.root.classList.contains("nnplay-live-bare") && !document.hidden) {
        // a figure beside the page's other elements: they are painted first (on the Draw page, the answer to
        // a stroke before its network), and a newer figure that arrives meanwhile replaces this one
        await afterPaint();
      }
      const job = state.pending; // the newest snapshot, after the wait
      if (!job || state.gone) break;
      state.pending = null;
      const t0 = performance.now();
      const deferred = await drawFigures(state, job.figures, job.plotlyUrl, job.busy);
      const end = performance.now();
      state.restUntil = end + REST * (end - t0);
      if (deferred) drawLater(state, job);
    }
  } catch (err) {
    state.error.textContent = `The charts could not be drawn: ${err.message}`;
  } finally {
    state.drawing = false;
  }
}

// Resolves once the browser has painted its next frame (a task after the frame's callbacks).
function afterPaint() {
  return new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
}

// The milliseconds until the browser has painted what was just drawn (style, layout and paint of a
// figure's SVG cost about as much as plotly's own work); 0 in a hidden tab, which paints nothing.
async function paintMs() {
  if (document.hidden) return 0;
  const t0 = performance.now();
  await afterPaint();
  return performance.now() - t0;
}

// A heavy figure left waiting is drawn when its rest is over, even if no newer snapshot comes (a run that
// paused or ended meanwhile shows its latest pictures).
function drawLater(state, job) {
  if (state.heavyTimer !== null) clearTimeout(state.heavyTimer);
  state.heavyTimer = setTimeout(() => {
    state.heavyTimer = null;
    if (state.gone || state.latest !== job) return; // a newer snapshot came: its drawing sees to it
    state.pending = state.pending || job;
    if (!state.drawing) drawPending(state);
  }, Math.max(0, state.heavyRestUntil - performance.now()) + 10);
}

function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}

function stopPolling(state) {
  if (state.timer !== null) clearTimeout(state.timer);
  state.timer = null;
  state.url = null;
}

function poll(state, data, setTriggerValue) {
  const url = data.url;
  const period = Math.max(100, Number(data.period_ms) || 480);
  const calmPeriod = Math.max(period, Number(data.calm_period_ms) || period);
  // a fixed beat: each fetch starts one period after the previous one started, however long it took
  let next = performance.now();
  const tick = async () => {
    if (state.gone || state.url !== url) return;
    const began = next;
    next += period;
    if (!state.fetching) {
      state.fetching = true;
      try {
        const response = await fetch(url, { cache: "no-store" });
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        const snap = await response.json();
        // for tests and benchmarks: how many snapshots were fetched, the first and the last when
        const at = performance.now().toFixed(0);
        state.root.dataset.fetched = String(Number(state.root.dataset.fetched || 0) + 1);
        if (!state.root.dataset.firstFetchMs) state.root.dataset.firstFetchMs = at;
        state.root.dataset.lastFetchMs = at;
        state.failures = 0;
        if (state.url !== url) return;
        show(state, snap, data.plotly_url);
        if (snap.calm) next = began + calmPeriod;
        // a page redrawn before the server saw the new status (still "starting") may ask again, 3 times at most
        const again = state.askedStatus === snap.status && state.redrawn && (state.asks || 0) < 3;
        if (snap.active !== false && snap.status && state.drawnStatus
            && snap.status !== state.drawnStatus && (state.askedStatus !== snap.status || again)) {
          state.asks = state.askedStatus === snap.status ? (state.asks || 0) + 1 : 1;
          state.askedStatus = snap.status;
          state.redrawn = false;
          setTriggerValue("status", snap.status); // one rerun: the sidebar and the runs list say it too
        }
        if (snap.active === false) {
          stopPolling(state);
          if (state.ended !== url) {
            state.ended = url;
            setTriggerValue("ended", data.run ?? true); // one rerun: the page shows how the run ended
          }
          return;
        }
      } catch (err) {
        // the file is replaced atomically, but a fetch can still fail (a busy or restarted server):
        // try again on the next beat, and after ~5 s of failures say so
        state.failures += 1;
        if (state.failures >= 10) {
          setText(state.error, `The live view gets no news from the server (${err.message}); reload the page.`);
        }
      } finally {
        state.fetching = false;
      }
    }
    if (state.url === url) {
      const now = performance.now();
      if (next < now) next = now; // a background tab or a slow fetch: no burst to catch up
      state.timer = setTimeout(tick, next - now);
    }
  };
  stopPolling(state);
  state.url = url;
  tick();
}

const USER_SCROLLS = ["wheel", "touchstart", "keydown", "mousedown"];

// A just-started run's view is scrolled up where the learner looks and kept there while the page settles (the
// rerun may still move what is above it), until it holds still 3 s (10 s at most) or the learner scrolls, clicks
// or types; data-settling is set meanwhile.
function bringIntoView(root) {
  root.style.scrollMarginTop = "7.5rem";
  root.dataset.settling = "1";
  const wanted = () => parseFloat(getComputedStyle(root).scrollMarginTop) || 120;
  let userMoved = false;
  const moved = () => { userMoved = true; };
  USER_SCROLLS.forEach((e) => window.addEventListener(e, moved, { capture: true, passive: true }));
  const started = Date.now();
  let stillSince = null;
  const check = () => {
    const off = root.isConnected && Math.abs(root.getBoundingClientRect().top - wanted()) > 8;
    if (off) {
      stillSince = null;
      root.scrollIntoView({ block: "start", behavior: "instant" });
    } else if (stillSince === null) {
      stillSince = Date.now();
    }
    const done = userMoved || !root.isConnected || Date.now() - started > 10000
      || (stillSince !== null && Date.now() - stillSince > 3000);
    if (done) {
      USER_SCROLLS.forEach((e) => window.removeEventListener(e, moved, { capture: true }));
      delete root.dataset.settling;
    } else {
      setTimeout(check, 250);
    }
  };
  setTimeout(() => {
    root.scrollIntoView({ block: "start", behavior: "smooth" });
    setTimeout(check, 1000); // after the smooth scroll's own time
  }, 50);
}

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  if (data && data.preload) {
    // mounted before any run: fetch and compile plotly.js now, not when the first run starts
    loadPlotly(data.plotly_url).catch(() => {});
    return undefined;
  }
  let state = STATES.get(parentElement);
  if (!state) {
    state = build(parentElement.querySelector(".nnplay-live"));
    STATES.set(parentElement, state);
  }
  // bare: figures only (ui.live.plotly_figure), no status, progress or caption
  state.root.classList.toggle("nnplay-live-bare", Boolean(data && data.bare));
  state.clickable = Boolean(data && data.clickable);
  state.setTrigger = setTriggerValue;
  const drawn = (data && data.run_status) || null; // the run's status as the page around the view says it
  if (drawn !== state.drawnStatus) state.askedStatus = null;
  state.drawnStatus = drawn;
  state.redrawn = true; // the page ran again since the last ask
  if (data && data.scroll && state.scrolledFor !== data.run) {
    // a run just started: bring its view up where the learner looks, with its Stop/Pause row and
    // Streamlit's header above it (scroll-margin-top), once per run
    state.scrolledFor = data.run;
    bringIntoView(state.root);
  }
  if (data && data.url) {
    if (state.url !== data.url && state.ended !== data.url) {
      state.shownVersion = undefined; // another feed (other options, or another run): its versions count anew
      state.base = data.url; // where its detached figures are
      // the snapshot the page was drawn with (the feed's file as the script ran): shown now, not a fetch later
      if (data.initial) {
        try {
          show(state, JSON.parse(data.initial), data.plotly_url);
        } catch (err) {
          // a damaged text: the first fetch, right away, draws the view
        }
      }
      poll(state, data, setTriggerValue);
    }
  } else if (data && data.snapshot) {
    stopPolling(state);
    show(state, data.snapshot, data.plotly_url);
    // the run ended while the page was drawn, after the sidebar said it trains: one rerun, and the sidebar follows
    const status = data.snapshot.status;
    if (drawn && status && status !== drawn && state.askedStatus !== status) {
      state.askedStatus = status;
      setTriggerValue("status", status);
    }
  }
  return () => {
    const current = STATES.get(parentElement);
    if (!current) return;
    current.gone = true;
    stopPolling(current);
    if (current.heavyTimer !== null) clearTimeout(current.heavyTimer);
    if (current.sight) current.sight.disconnect();
    if (current.onVisible) document.removeEventListener("visibilitychange", current.onVisible);
    STATES.delete(parentElement);
    if (window.Plotly) current.plots.forEach((plot) => window.Plotly.purge(plot));
  };
}
