// Progressive enhancement only: press "/" to jump to the search box. Every page works without it.
document.addEventListener("keydown", function (event) {
  var box = document.getElementById("q");
  var tag = (event.target && event.target.tagName) || "";
  if (event.key === "/" && box && tag !== "INPUT" && tag !== "TEXTAREA" && !event.ctrlKey && !event.metaKey && !event.altKey) {
    event.preventDefault();
    box.focus();
    box.select();
  }
});
