// Filters the rows of a table as the trainee types (the DICOM header in the image viewer).
document.querySelectorAll("[data-filter-target]").forEach(function (input) {
  const table = document.querySelector(input.dataset.filterTarget);
  input.addEventListener("input", function () {
    const needle = input.value.trim().toLowerCase();
    table.querySelectorAll("tr").forEach(function (row) {
      row.hidden = needle !== "" && !row.textContent.toLowerCase().includes(needle);
    });
  });
});
