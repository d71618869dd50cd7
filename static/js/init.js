import { initAll } from "../vendor/govuk-frontend.min.js";
import { initChoiceFilters } from "./choice-filter.js";
import "./countdown.js";
initAll();
initChoiceFilters();

// The control the address's #fragment names takes the focus when it asks to (a section's
// move button, back on the page after the move), so the keyboard carries on from there.
const arrival = location.hash && document.getElementById(location.hash.slice(1));
if (arrival && arrival.hasAttribute("data-focus-on-arrival")) arrival.focus();
