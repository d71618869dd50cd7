// Run at the top of <body>, before the page is drawn (a file, not an inline script, so the
// Content-Security-Policy needs no 'unsafe-inline'): GOV.UK Frontend's styles for pages with
// JavaScript apply from the first paint, and only where its components are supported.
document.body.className +=
  " js-enabled" + ("noModule" in HTMLScriptElement.prototype ? " govuk-frontend-supported" : "");
