// Counters of the live drawing, readable in the browser console and by the page's tests
// (window.omsPerf): books received and drawn, draws and the time they took.
export const perf = {
  booksReceived: 0,
  bookRenders: 0,
  bookGaps: 0,
  draws: 0,
  drawMs: 0,
};
window.omsPerf = perf;
