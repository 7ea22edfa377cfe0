/* flywheel-sim dashboard: callbacks that run in the browser (no server round trip). */
window.dash_clientside = Object.assign({}, window.dash_clientside, {
  flywheel: {
    /* the value shown above a slider: 10^position on a log slider */
    sliderValue: function (position, className) {
      if (position === null || position === undefined) { return ""; }
      var value = (className || "").indexOf("log") >= 0 ? Math.pow(10, position) : position;
      if (value === 0) { return "0"; }
      var a = Math.abs(value);
      if (a >= 1e5 || a < 1e-3) { return value.toExponential(2).replace(/\.?0+e/, "e"); }
      return String(Number(value.toPrecision(4)));
    },
    /* show only the sliders whose name contains the filter text */
    filterSliders: function (text, ids) {
      var wanted = (text || "").toLowerCase().replace(/ /g, "_");
      return ids.map(function (id) {
        return id.key.toLowerCase().indexOf(wanted) >= 0 ? {} : {display: "none"};
      });
    },
    /* PNG or SVG of a chart, drawn by plotly.js in the browser */
    downloadImage: function () {
      var ctx = window.dash_clientside.callback_context;
      if (!ctx.triggered.length || !ctx.triggered[0].value) { return window.dash_clientside.no_update; }
      var id = JSON.parse(ctx.triggered[0].prop_id.split(".")[0]);
      var div = document.querySelector("#" + id.graph + " .js-plotly-plot");
      if (div) { Plotly.downloadImage(div, {format: id.type, filename: id.graph, scale: 2}); }
      return id.type + ":" + id.graph;
    },
    /* the data a chart shows as CSV, one row per point: panel, series, x, y */
    downloadCsv: function () {
      var ctx = window.dash_clientside.callback_context;
      if (!ctx.triggered.length || !ctx.triggered[0].value) { return window.dash_clientside.no_update; }
      var id = JSON.parse(ctx.triggered[0].prop_id.split(".")[0]);
      var div = document.querySelector("#" + id.graph + " .js-plotly-plot");
      if (!div || !div._fullData) { return window.dash_clientside.no_update; }
      var titles = {};
      ((div.layout && div.layout.annotations) || []).forEach(function (a, i) {
        titles[i === 0 ? "x" : "x" + (i + 1)] = a.text;
      });
      var quote = function (s) { s = String(s); return /[",\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s; };
      var rows = ["panel,series,x,y"];
      div._fullData.forEach(function (trace) {  /* _fullData: arrays decoded */
        if (!trace.x || !trace.y || trace.visible === false) { return; }
        var panel = titles[trace.xaxis || "x"] || "";
        var name = typeof trace.meta === "string" ? trace.meta : (trace.name || "");
        for (var k = 0; k < trace.x.length; k++) {
          rows.push([quote(panel), quote(name), trace.x[k], trace.y[k]].join(","));
        }
      });
      return {content: rows.join("\n") + "\n", filename: id.graph + ".csv", type: "text/csv"};
    }
  }
});
