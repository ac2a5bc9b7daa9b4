// inspect.js: what the test reads from a page, as one JSON value.
(() => {
  const abs = (el, attr) => (el.getAttribute(attr) === null ? "" : new URL(el.getAttribute(attr), document.baseURI).href);
  const text = (el) => (el ? el.innerText.trim() : "");
  let rules = 0;
  for (const sheet of document.styleSheets) {
    try { rules += sheet.cssRules.length; } catch (e) { /* cross-origin */ }
  }
  return {
    url: location.href,
    title: document.title,
    lang: document.documentElement.lang,
    charset: document.characterSet,
    h1: text(document.querySelector("h1")),
    text: document.body.innerText,
    head: Array.from(document.querySelectorAll("head link")).map((l) => ({
      rel: l.rel, type: l.type, href: abs(l, "href"),
    })),
    links: Array.from(document.querySelectorAll("a[href]")).map((a) => ({
      text: text(a), href: abs(a, "href"), cls: a.className,
    })),
    times: Array.from(document.querySelectorAll("time")).map((el) => ({
      text: text(el), datetime: el.getAttribute("datetime") || "",
    })),
    scripts: document.querySelectorAll("script").length,
    images: Array.from(document.images).map((i) => ({ src: i.currentSrc, alt: i.alt, ok: i.complete && i.naturalWidth > 0 })),
    rules: rules,
    scrollWidth: document.documentElement.scrollWidth,
    viewWidth: window.innerWidth,
  };
})()
