// Cascading region picker: one <select> per level below the user's own region,
// filled from /regions/options/ (already limited to the user's jurisdiction).
(function () {
  function fetchOptions(parent, selected) {
    const url = "/regions/options/?parent=" + encodeURIComponent(parent || "") + "&selected=" + encodeURIComponent(selected || "");
    return fetch(url, { credentials: "same-origin" }).then(r => r.text());
  }

  function prefixesOf(code) {
    return [2, 4, 6, 9, 12].filter(n => code && n <= code.length).map(n => code.slice(0, n));
  }

  async function addLevel(picker, parent, selected) {
    const html = await fetchOptions(parent, selected);
    const count = (html.match(/<option value="\d/g) || []).length;
    if (!count) return null;
    const col = document.createElement("div");
    col.className = "col-sm";
    const select = document.createElement("select");
    select.className = "form-select form-select-sm";
    select.innerHTML = html;
    select.dataset.parent = parent || "";
    col.appendChild(select);
    picker.querySelector(".region-picker-levels").appendChild(col);
    select.addEventListener("change", () => onChange(picker, select));
    return select;
  }

  function setValue(picker, code, label) {
    const input = document.getElementById(picker.dataset.target);
    if (input) input.value = code;
    picker.querySelector(".region-picker-current").textContent = code ? (label + "（" + code + "）") : "";
  }

  async function onChange(picker, select) {
    const cols = Array.from(picker.querySelectorAll(".region-picker-levels > div"));
    const idx = cols.indexOf(select.parentElement);
    cols.slice(idx + 1).forEach(c => c.remove());
    const code = select.value || select.dataset.parent;
    const chosen = select.options[select.selectedIndex];
    setValue(picker, code, chosen && select.value ? chosen.text : "");
    if (select.value) await addLevel(picker, select.value, "");
  }

  async function init(picker) {
    const selected = picker.dataset.selected || "";
    let select = await addLevel(picker, "", selected);
    if (select && select.options.length === 2 && !select.value) { select.selectedIndex = 1; }
    const chain = prefixesOf(selected);
    while (select && select.value) {
      const next = chain.find(p => p.length > select.value.length) || "";
      select = await addLevel(picker, select.value, next);
    }
    const input = document.getElementById(picker.dataset.target);
    if (input && !input.value) {
      const first = picker.querySelector("select");
      if (first && first.value) input.value = first.value;
    }
    if (selected) {
      const chosen = Array.from(picker.querySelectorAll("select")).filter(s => s.value).pop();
      setValue(picker, selected, chosen && chosen.value === selected ? chosen.options[chosen.selectedIndex].text : "");
    }
  }

  document.addEventListener("DOMContentLoaded", () => document.querySelectorAll(".region-picker").forEach(init));
})();

// Inline formsets: "add a row" clones the formset's empty form (<template data-formset-empty>)
// with the next index and bumps TOTAL_FORMS, as Django's formset management form expects.
(function () {
  function addRow(box) {
    const prefix = box.dataset.formset;
    const total = box.querySelector("#id_" + prefix + "-TOTAL_FORMS");
    const template = box.querySelector("template[data-formset-empty]");
    const index = parseInt(total.value, 10);
    const html = template.innerHTML.replace(/__prefix__/g, String(index));
    const body = box.querySelector("[data-formset-body]");
    body.insertAdjacentHTML("beforeend", html);
    total.value = String(index + 1);
    const first = body.lastElementChild && body.lastElementChild.querySelector("input:not([type=hidden])");
    if (first) first.focus();
  }

  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-formset-add]");
    if (!button) return;
    const box = button.closest("[data-formset]");
    if (box) addRow(box);
  });
})();

// Behaviour that used to sit in inline handlers, which the Content-Security-Policy forbids:
// <select data-autosubmit>, <button data-print>, <button data-confirm="question">, <input data-check-all=".selector">, and
// progress bars whose width comes from data-progress (also in fragments htmx swaps in).
(function () {
  document.addEventListener("change", (event) => {
    const target = event.target;
    if (target.matches("select[data-autosubmit]") && target.form) target.form.submit();
    if (target.matches("input[data-check-all]")) {
      document.querySelectorAll(target.dataset.checkAll).forEach((box) => { box.checked = target.checked; });
    }
  });
  document.addEventListener("click", (event) => {
    if (event.target.closest("[data-print]")) window.print();
    // A decision that cannot be taken back (a bulk review, 对账销号) asks first.
    const confirming = event.target.closest("[data-confirm]");
    if (confirming && !window.confirm(confirming.dataset.confirm)) event.preventDefault();
  });

  function sizeBars(root) {
    root.querySelectorAll("[data-progress]").forEach((bar) => { bar.style.width = bar.dataset.progress + "%"; });
  }
  if (window.htmx) {
    htmx.onLoad(sizeBars);  // runs for the document and for every swapped-in fragment
  } else {
    document.addEventListener("DOMContentLoaded", () => sizeBars(document));
  }
})();

// The public complaint form's region picker (no login: it reads /public/complaint/regions/).
(function () {
  function setUp(picker) {
    const input = document.getElementById(picker.dataset.target);
    const levels = picker.querySelector(".levels");
    async function add(parent) {
      const html = await fetch(picker.dataset.url + "?parent=" + encodeURIComponent(parent || "")).then(r => r.text());
      if (!(html.match(/<option value="\d/g) || []).length) return;
      const col = document.createElement("div"); col.className = "col-sm";
      const select = document.createElement("select"); select.className = "form-select form-select-sm";
      select.innerHTML = html; select.dataset.parent = parent || "";
      col.appendChild(select); levels.appendChild(col);
      select.addEventListener("change", async function () {
        const cols = Array.from(levels.children); cols.slice(cols.indexOf(col) + 1).forEach(c => c.remove());
        input.value = select.value && select.value.length >= 9 ? select.value : "";
        picker.querySelector(".current").textContent = input.value ? select.options[select.selectedIndex].text + "（" + input.value + "）" : "";
        if (select.value && select.value.length < 12) await add(select.value);
      });
    }
    add("");
  }
  document.addEventListener("DOMContentLoaded", () => document.querySelectorAll(".public-region-picker").forEach(setUp));
})();
