// Progressive enhancement: typeahead pickers and delete confirmations.
// Without JavaScript the text box still accepts a record id typed by hand.
"use strict";

function setupTypeahead(box) {
  const input = box.querySelector("input[type=text]");
  const hidden = box.querySelector("input[type=hidden]");
  const list = box.querySelector(".typeahead-options");
  let timer = null;
  let active = -1;

  function close() {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    active = -1;
  }
  function choose(li) {
    hidden.value = li.dataset.id;
    input.value = li.textContent;
    close();
  }
  function render(options) {
    list.replaceChildren();
    options.forEach((option, i) => {
      const li = document.createElement("li");
      li.textContent = option.label;
      li.dataset.id = option.id;
      li.id = input.id + "-option-" + i;
      li.setAttribute("role", "option");
      li.addEventListener("mousedown", (event) => { event.preventDefault(); choose(li); });
      list.appendChild(li);
    });
    list.hidden = options.length === 0;
    input.setAttribute("aria-expanded", String(options.length > 0));
  }
  input.addEventListener("input", () => {
    hidden.value = "";
    clearTimeout(timer);
    const q = input.value.trim();
    if (/^\d+$/.test(q)) { hidden.value = q; }
    if (q.length < 2) { close(); return; }
    timer = setTimeout(async () => {
      const response = await fetch(box.dataset.typeahead + "?q=" + encodeURIComponent(q),
                                   {headers: {"Accept": "application/json"}});
      if (response.ok) { render(await response.json()); }
    }, 150);
  });
  input.addEventListener("keydown", (event) => {
    const items = list.querySelectorAll("li");
    if (list.hidden || items.length === 0) { return; }
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      active = (active + (event.key === "ArrowDown" ? 1 : items.length - 1)) % items.length;
      items.forEach((li, i) => li.setAttribute("aria-selected", String(i === active)));
      input.setAttribute("aria-activedescendant", items[active].id);
    } else if (event.key === "Enter" && active >= 0) {
      event.preventDefault();
      choose(items[active]);
    } else if (event.key === "Escape") {
      close();
    }
  });
  input.addEventListener("blur", () => setTimeout(close, 100));
}

document.querySelectorAll("[data-typeahead]").forEach(setupTypeahead);
document.querySelectorAll("form[data-confirm]").forEach((form) => {
  form.addEventListener("submit", (event) => {
    if (!window.confirm(form.dataset.confirm)) { event.preventDefault(); }
  });
});

// A checkbox that shows or hides a group of fields (e.g. "This is a clinical trial").
document.querySelectorAll("[data-shows]").forEach((box) => {
  const checkbox = box.querySelector("input[type=checkbox]");
  const target = document.getElementById(box.dataset.shows);
  if (!checkbox || !target) { return; }
  const sync = () => { target.hidden = !checkbox.checked; };
  checkbox.addEventListener("change", sync);
  sync();
});
