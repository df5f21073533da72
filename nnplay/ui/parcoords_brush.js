// nnplay's brushable parallel coordinates: a Streamlit v2 component mounted by nnplay.ui.compare_view.
//
// Why hand-written: st.plotly_chart(on_select=...) reports point, box and lasso selections, never a
// parcoords brush (plotly/plotly.py #5026). plotly.js tells of a brush with a "plotly_restyle" event after
// it has written the dimension's constraintrange; this component listens for it and sends every axis's
// ranges back to the page as the state value "ranges", which reruns it (the table and curves follow).
//
// data: {plotly_url: string, figure: {data, layout}, keys: [string] (one per dimension, the frame's column; the
// dimensions' labels differ), height?: number}. The figure's dimensions carry the brushed ranges the page keeps (constraintrange), so a
// rerun draws the same brush. A figure that differs from the one shown only by ranges the plot already
// shows is not drawn again (the brush the learner is dragging stays where it is).
// State sent back: ranges = {key: [[lo, hi], ...]} (axes without a brush left out).
// For tests and benchmarks the plot's element keeps data-draws (how often it was drawn), data-draw-ms (the
// last drawing's milliseconds, from Plotly.react's call to the frame after it) and data-brushes.
// loadPlotly and themeText come from plotly_loader.js, which nnplay.ui.live.component_js puts before this file.

const STATES = new WeakMap();
const SEND_AFTER_MS = 150; // a drag emits a restyle per axis touched: one message when it has settled
const THEME_CHECK_MS = 1000; // a viewer's switch of theme redraws no component: the labels follow within this

// [lo, hi] or [[lo, hi], ...] (plotly.js takes both) as a sorted list of pairs; [] for none
function pairs(range) {
  if (!Array.isArray(range) || range.length === 0) return [];
  const list = Array.isArray(range[0]) ? range : [range];
  return list
    .filter((p) => Array.isArray(p) && p.length === 2 && p.every((v) => typeof v === "number" && isFinite(v)))
    .map(([a, b]) => [Math.min(a, b), Math.max(a, b)])
    .sort((p, q) => p[0] - q[0]);
}

// keys: the frame's column of each dimension, by the dimension's label (a learner may drag an axis to another
// place, which reorders the plot's dimensions)
function keysByLabel(figure, keys) {
  const dims = (figure.data && figure.data[0] && figure.data[0].dimensions) || [];
  return new Map(dims.map((dim, i) => [dim.label, keys[i]]));
}

function shownRanges(plot, keyOf) {
  const trace = plot.data && plot.data[0];
  const out = {};
  ((trace && trace.dimensions) || []).forEach((dim) => {
    const list = pairs(dim.constraintrange);
    const key = keyOf.get(dim.label);
    if (list.length && key !== undefined) out[key] = list;
  });
  return out;
}

// the figure without its ranges: what decides whether it must be drawn again
function withoutRanges(figure) {
  const data = (figure.data || []).map((trace) => ({
    ...trace,
    dimensions: (trace.dimensions || []).map(({ constraintrange, ...rest }) => rest),
  }));
  return JSON.stringify([data, figure.layout || {}]);
}

// the theme's text colour for every label (the axes', their ticks', the colour bar's), as st.plotly_chart does
function themed(layout, el) {
  const { color: text, family: font } = themeText(el);
  return { paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)", ...layout,
    font: { family: font, color: text, size: 12, ...(layout.font || {}) } };
}

function afterPaint() {
  return new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
}

async function draw(state, data) {
  const figure = data.figure || { data: [], layout: {} };
  const keyOf = keysByLabel(figure, data.keys || []);
  const shape = withoutRanges(figure);
  const wanted = JSON.stringify(shownRanges(figure, keyOf));
  const Plotly = await loadPlotly(data.plotly_url);
  if (state.gone) return;
  const plot = state.plot;
  if (plot._fullLayout && state.shape === shape && JSON.stringify(shownRanges(plot, keyOf)) === wanted) {
    state.keyOf = keyOf; // already shows this figure with these ranges
    return;
  }
  plot.style.height = `${data.height || (figure.layout && figure.layout.height) || 420}px`;
  const t0 = performance.now();
  await Plotly.react(plot, figure.data || [], themed(figure.layout || {}, plot), { responsive: true, displaylogo: false });
  await afterPaint();
  plot.dataset.drawMs = (performance.now() - t0).toFixed(1);
  state.textColor = themeText(plot).color;
  plot.dataset.draws = String(Number(plot.dataset.draws || 0) + 1);
  state.shape = shape;
  state.keyOf = keyOf;
  state.sent = wanted; // the page knows these ranges already
  if (!state.listening) {
    state.listening = true;
    plot.on("plotly_restyle", () => {
      if (state.timer !== null) clearTimeout(state.timer);
      state.timer = setTimeout(() => {
        state.timer = null;
        const ranges = shownRanges(plot, state.keyOf);
        const text = JSON.stringify(ranges);
        if (text === state.sent || state.gone) return;
        state.sent = text;
        plot.dataset.brushes = String(Number(plot.dataset.brushes || 0) + 1);
        state.setState("ranges", ranges);
      }, SEND_AFTER_MS);
    });
  }
}

export default function (component) {
  const { data, parentElement, setStateValue } = component;
  let state = STATES.get(parentElement);
  if (!state) {
    const root = parentElement.querySelector(".nnplay-parcoords");
    root.innerHTML = '<div class="nnplay-parcoords-plot"></div><div class="nnplay-parcoords-error"></div>';
    state = { plot: root.querySelector(".nnplay-parcoords-plot"), error: root.querySelector(".nnplay-parcoords-error"),
      shape: null, keyOf: new Map(), sent: null, timer: null, listening: false, gone: false, queue: Promise.resolve() };
    STATES.set(parentElement, state);
    // the viewer's theme can change with nothing sent to the component: its labels take the new text colour
    state.themeTimer = setInterval(() => {
      const plot = state.plot;
      if (state.gone || !plot._fullLayout || !window.Plotly) return;
      const { color } = themeText(plot);
      if (color === state.textColor) return;
      state.textColor = color;
      window.Plotly.relayout(plot, { "font.color": color });
    }, THEME_CHECK_MS);
  }
  state.setState = setStateValue;
  // one drawing at a time, in the order the page sent them
  state.queue = state.queue.then(() => draw(state, data || {})).then(
    () => { state.error.textContent = ""; },
    (err) => { state.error.textContent = `The parallel coordinates could not be drawn: ${err.message}`; });
  return () => {
    const current = STATES.get(parentElement);
    if (!current) return;
    current.gone = true;
    if (current.timer !== null) clearTimeout(current.timer);
    clearInterval(current.themeTimer);
    STATES.delete(parentElement);
    if (window.Plotly) window.Plotly.purge(current.plot);
  };
}
