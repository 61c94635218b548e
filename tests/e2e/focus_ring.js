// The focused element's ring against what is behind it: the better of its two tones' contrast.
() => {
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) return null;
  const parse = (text) => {
    const m = /rgba?\(([^)]+)\)/.exec(text || "");
    if (!m) return null;
    const p = m[1].split(/[\s,\/]+/).filter(Boolean).map(Number);
    return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1};
  };
  const channel = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
  const lum = (c) => 0.2126 * channel(c.r) + 0.7152 * channel(c.g) + 0.0722 * channel(c.b);
  const ratio = (a, b) => {
    const [x, y] = [lum(a), lum(b)].sort((m, n) => n - m);
    return (x + 0.05) / (y + 0.05);
  };
  // The ring is drawn around the element: measure it against what is behind it.
  let node = el.parentElement, behind = null;
  while (node && !behind) {
    const c = parse(getComputedStyle(node).backgroundColor);
    if (c && c.a > 0.5) behind = c;
    node = node.parentElement;
  }
  behind = behind || {r: 255, g: 255, b: 255, a: 1};
  const style = getComputedStyle(el);
  const tones = [];
  if (style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2) tones.push(parse(style.outlineColor));
  if (style.boxShadow && style.boxShadow !== "none") tones.push(parse(style.boxShadow));
  const ratios = tones.filter(Boolean).map((tone) => ratio(tone, behind));
  const name = (el.getAttribute("aria-label") || el.innerText || el.value || el.name || el.id || "").trim();
  return {element: `${el.tagName.toLowerCase()} "${name.slice(0, 40)}"`, best: Math.max(0, ...ratios)};
}
