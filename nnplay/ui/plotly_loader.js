// plotly.js for nnplay's v2 components: one loader shared by the live run view (live_run.js) and the brushable
// parallel coordinates (parcoords_brush.js). nnplay.ui.live.component_js puts this file before each component's
// own code, so both load plotly.js once per page (window.__nnplayPlotlyLoaders) and take the theme's text colour
// and font the same way.

const LOADERS = (window.__nnplayPlotlyLoaders = window.__nnplayPlotlyLoaders || {});

function loadPlotly(url) {
  if (window.Plotly && window.Plotly.react) return Promise.resolve(window.Plotly);
  if (!LOADERS[url]) {
    LOADERS[url] = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = url;
      script.async = true;
      script.onload = () =>
        window.Plotly && window.Plotly.react
          ? resolve(window.Plotly)
          : reject(new Error("plotly.js loaded but defined no Plotly"));
      script.onerror = () => {
        delete LOADERS[url];
        reject(new Error(`could not load plotly.js from ${url}`));
      };
      document.head.appendChild(script);
    });
  }
  return LOADERS[url];
}

// the theme's text colour and font where el is drawn: Streamlit's --st-* properties (they follow the viewer's
// light or dark theme), else the colour el inherits
function themeText(el) {
  const css = getComputedStyle(el);
  return {
    color: css.getPropertyValue("--st-text-color").trim() || css.color || "#31333f",
    family: css.getPropertyValue("--st-font").trim() || "sans-serif",
  };
}
