// contrast.js: the WCAG contrast ratio of the text the site styles against
// the background it is drawn on, for the elements present on the page.
(() => {
  const parse = (c) => {
    const m = c.match(/rgba?\(([^)]+)\)/);
    if (!m) return null;
    const p = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
    return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
  };
  const lum = (c) => {
    const ch = [c.r, c.g, c.b].map((v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * ch[0] + 0.7152 * ch[1] + 0.0722 * ch[2];
  };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c.a > 0) return c;
    }
    const root = parse(getComputedStyle(document.documentElement).backgroundColor);
    if (root && root.a > 0) return root;
    return matchMedia("(prefers-color-scheme: dark)").matches ? { r: 18, g: 18, b: 18, a: 1 } : { r: 255, g: 255, b: 255, a: 1 };
  };
  const selectors = [
    "body", "h1", "h2", "header.site .brand", "main a", "ol.posts time", ".source a", ".meta",
    ".description", ".count", ".poll", ".status", ".error", ".failures", ".tags a", "article .content",
    ".original a", "nav.back a", "p.back a", "footer.site", "footer.site a", "form.search input", "form.search button",
  ];
  const out = [];
  for (const sel of selectors) {
    const el = document.querySelector(sel);
    if (!el || !el.innerText && el.tagName !== "INPUT") continue;
    const fg = parse(getComputedStyle(el).color);
    const bg = background(el);
    const a = lum(fg) + 0.05, b = lum(bg) + 0.05;
    out.push({ sel: sel, fg: getComputedStyle(el).color, bg: `rgb(${bg.r}, ${bg.g}, ${bg.b})`, ratio: Math.max(a, b) / Math.min(a, b) });
  }
  return out;
})()
