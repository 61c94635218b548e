// Elements whose content is wider than they are (the page scrolls sideways), form controls and
// visually hidden text aside.
() => {
  const clipped = (el) => {
    const style = getComputedStyle(el);
    return style.clip === "rect(0px, 0px, 0px, 0px)" || style.clipPath === "inset(50%)";
  };
  const hidden = (el) => {
    for (let node = el; node && node !== document.body; node = node.parentElement) {
      if (clipped(node)) return true;
    }
    return false;
  };
  return [...document.querySelectorAll("body, body *")]
    .filter((el) => !["INPUT", "TEXTAREA", "SELECT", "OPTION"].includes(el.tagName))
    .filter((el) => el.scrollWidth > el.clientWidth + 1 && el.clientWidth > 0 && !hidden(el))
    .map((el) => `${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""}${el.className && typeof el.className === "string" ? "." + el.className.trim().split(/\s+/).join(".") : ""} (${el.scrollWidth} > ${el.clientWidth})`)
    .concat(document.documentElement.scrollWidth > window.innerWidth ? [`page (${document.documentElement.scrollWidth} > ${window.innerWidth})`] : []);
}
