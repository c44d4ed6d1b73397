// Keying in paper cards by keyboard (the page works without this): in a numbered choice,
// the number key N picks the Nth option; a scale box moves on once its number is complete.
(function () {
  "use strict";
  function moveOn(field) {
    var fields = Array.prototype.slice.call(
      field.form.querySelectorAll("input:not([type=hidden]), textarea, select, button"));
    for (var i = fields.indexOf(field) + 1; i < fields.length; i++) {
      if (fields[i].name !== field.name) { fields[i].focus(); return; }
    }
  }
  document.addEventListener("keydown", function (event) {
    var field = event.target;
    if (!field.form || event.ctrlKey || event.metaKey || event.altKey) return;
    var group = field.closest && field.closest("fieldset.numbered");
    if (!group || !/^[1-9]$/.test(event.key)) return;
    var option = group.querySelectorAll("input")[Number(event.key) - 1];
    if (!option) return;
    event.preventDefault();
    if (option.type === "checkbox") {
      option.checked = !option.checked;
      option.focus();
    } else {
      option.checked = true;
      moveOn(option);
    }
  });
  document.addEventListener("input", function (event) {
    var field = event.target;
    var max = field.dataset && Number(field.dataset.max);
    if (!max || !/^[0-9]+$/.test(field.value)) return;
    // A scale to 5 is complete at one digit; a scale to 10 at "10" or any digit but 1.
    if (field.value.length >= String(max).length || Number(field.value) * 10 > max) moveOn(field);
  });
})();
