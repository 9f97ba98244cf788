// Progressive enhancement only: every page works without this file.
// On the case form, show the fields of the chosen case type and hide the others.
document.addEventListener("DOMContentLoaded", () => {
  for (const select of document.querySelectorAll("[data-case-type-select]")) {
    const form = select.form;
    const sync = () => {
      for (const group of form.querySelectorAll("fieldset[data-for-type]")) {
        group.hidden = !group.dataset.forType.split(" ").includes(select.value);
      }
    };
    select.addEventListener("change", sync);
    sync();
  }
});

// Sortable tables: a click on a column header sorts by it (numbers by their data-sort value).
document.addEventListener("DOMContentLoaded", () => {
  for (const table of document.querySelectorAll("table.sortable")) {
    const headers = [...table.querySelectorAll("thead th")];
    headers.forEach((th, column) => {
      th.querySelector("button")?.addEventListener("click", () => {
        const ascending = th.getAttribute("aria-sort") !== "ascending";
        headers.forEach((h) => h.setAttribute("aria-sort", "none"));
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        const body = table.tBodies[0];
        const key = (row) => {
          const cell = row.cells[column];
          const value = cell?.dataset.sort ?? cell?.textContent.trim() ?? "";
          return value !== "" && !Number.isNaN(Number(value)) ? Number(value) : value;
        };
        const rows = [...body.rows].filter((row) => row.cells.length === headers.length);
        rows.sort((a, b) => {
          const [x, y] = [key(a), key(b)];
          const order = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
          return ascending ? order : -order;
        });
        rows.forEach((row) => body.appendChild(row));
      });
    });
  }
});
