// The application page: the token manager's app(env), then the tab's
// dashboards, each mounted by the manager. On the callback page the runner
// completes the authorization itself, and nothing is mounted.
import * as tm from "/tm.js";

const h = self.__oauthsim;
const page = h.init.page;
try {
  h.manager = await tm.app({ ...page.env, report: (p) => h.report(p) });
  if (!page.callback) {
    const list = document.getElementById("dashboards");
    for (let i = 1; i <= page.dashboards; i++) {
      const iframe = document.createElement("iframe");
      iframe.title = "dashboard " + i;
      list.append(iframe);
      h.manager.mount(iframe, page.env.dashboardOrigin + "/dashboard?n=" + i);
    }
  }
  h.markReady();
} catch (e) {
  document.getElementById("status").textContent = "the token manager failed: " + e;
  h.markReady(e);
}
