// Progressive enhancement only: every page works without this file.
// On the case form, show the fields of the chosen case type and hide the others.
document.addEventListener("DOMContentLoaded", () => {
  for (const select of document.querySelectorAll("[data-case-type-select]")) {
    const form = select.form;
    const sync = () => {
      for (const group of form.querySelectorAll("fieldset[data-for-type]")) {
        group.hidden = group.dataset.forType !== select.value;
      }
    };
    select.addEventListener("change", sync);
    sync();
  }
});
