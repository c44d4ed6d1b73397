/* Conditions on the survey page, with JavaScript: a question whose show_if condition does
   not hold is hidden and its answer cleared, as the server will drop it anyway
   (surveys/conditions.py is the rule; this mirrors it). Without JavaScript the version's
   stylesheet (portal/shopper/condition_styles.py) hides the same questions; the class
   "js-conditions" tells that stylesheet to step aside. Served from /static: the content
   security policy runs no inline script. */
(function () {
  "use strict";
  var form = document.querySelector("form.survey");
  if (!form) { return; }
  var storeFormat = form.getAttribute("data-format") || "";
  var questions = Array.prototype.map.call(
    form.querySelectorAll(".question[data-key]"),
    function (node) {
      var text = node.getAttribute("data-show-if");
      return {
        node: node,
        key: node.getAttribute("data-key"),
        kind: node.getAttribute("data-kind"),
        condition: text ? JSON.parse(text) : null
      };
    }
  );

  function inputs(question) {
    return Array.prototype.slice.call(
      question.node.querySelectorAll('input[name="' + question.key + '"]')
    );
  }

  /* The answer as the server reads it: a number, true/false, a choice key, a list of
     keys, or null when unanswered. */
  function answerOf(question) {
    var boxes = inputs(question);
    if (question.key === "problem") {
      return boxes.length ? boxes[0].checked : null;
    }
    var ticked = boxes.filter(function (box) { return box.checked; })
      .map(function (box) { return box.value; });
    if (!ticked.length) { return null; }
    if (question.kind === "scale") { return parseInt(ticked[0], 10); }
    if (question.kind === "boolean") { return ticked[0] === "yes"; }
    if (question.kind === "multiple") { return ticked; }
    if (question.kind === "choice") { return ticked[0]; }
    return null;
  }

  function ruleHolds(rule, kept) {
    if (rule.store_format) { return rule.store_format.indexOf(storeFormat) !== -1; }
    var answer = kept[rule.question];
    if (answer === undefined || answer === null) { return false; }
    var values = rule.values;
    if (rule.op === "in") {
      var picked = Array.isArray(answer) ? answer : [String(answer)];
      return picked.some(function (key) { return values.map(String).indexOf(key) !== -1; });
    }
    if (Array.isArray(answer) || typeof answer === "string") { return false; }
    if (rule.op === "eq") {
      return values.some(function (value) {
        return value === answer && typeof value === typeof answer;
      });
    }
    if (typeof answer === "boolean") { return false; }
    return rule.op === "le" ? answer <= values[0] : answer >= values[0];
  }

  function conditionHolds(condition, kept) {
    if (!condition) { return true; }
    var results = condition.rules.map(function (rule) { return ruleHolds(rule, kept); });
    return condition.match === "all"
      ? results.every(Boolean)
      : results.some(Boolean);
  }

  function clear(question) {
    Array.prototype.forEach.call(
      question.node.querySelectorAll("input, textarea"),
      function (field) {
        if (field.type === "radio" || field.type === "checkbox") {
          field.checked = false;
        } else {
          field.value = "";
        }
      }
    );
  }

  function update() {
    var kept = {};
    questions.forEach(function (question) {
      var shown = conditionHolds(question.condition, kept);
      question.node.hidden = !shown;
      if (!shown) {
        clear(question);
        return;
      }
      var answer = answerOf(question);
      if (answer !== null) { kept[question.key] = answer; }
    });
  }

  form.classList.add("js-conditions");
  form.addEventListener("change", update);
  update();
}());
