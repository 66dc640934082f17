// Live refresh: re-fetch a server-rendered fragment and swap it in, no page reload.
// <div data-live="/overview/panels/" data-interval="5000"> ... </div>
(function () {
  function refresh(el) {
    fetch(el.dataset.live, { headers: { "X-Requested-With": "fetch" }, credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.text(); })
      .then(function (html) {
        el.innerHTML = html;
        el.dataset.refreshedAt = new Date().toISOString();
        document.querySelectorAll(".live").forEach(function (b) { b.classList.remove("stale"); });
      })
      .catch(function () {
        document.querySelectorAll(".live").forEach(function (b) { b.classList.add("stale"); });
      });
  }
  document.querySelectorAll("[data-live]").forEach(function (el) {
    var every = parseInt(el.dataset.interval || "5000", 10);
    setInterval(function () { if (!document.hidden) refresh(el); }, every);
  });
  // Review queue: "select all" checkbox.
  document.querySelectorAll("[data-check-all]").forEach(function (box) {
    box.addEventListener("change", function () {
      document.querySelectorAll("input[name=ids]").forEach(function (c) { c.checked = box.checked; });
    });
  });
})();
