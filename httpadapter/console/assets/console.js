// The console works without this file. It adds a copy button to the
// credential page; nothing else.
"use strict";

document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var source = document.getElementById(button.getAttribute("data-copy"));
    var status = document.getElementById("copy-status");
    if (!source) {
      return;
    }
    var say = function (text) {
      if (status) {
        status.textContent = text;
      }
    };
    var selectSource = function () {
      var range = document.createRange();
      range.selectNodeContents(source);
      var sel = window.getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
    };
    button.hidden = false;
    button.addEventListener("click", function () {
      var text = source.textContent.trim();
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(function () {
          say("Copied.");
        }, function () {
          selectSource();
          say("Copying failed: the credential is selected, copy it with the keyboard.");
        });
        return;
      }
      selectSource();
      var copied = false;
      try {
        copied = document.execCommand("copy");
      } catch (e) {
        copied = false;
      }
      say(copied ? "Copied." : "The credential is selected: copy it with the keyboard.");
    });
  });
});
