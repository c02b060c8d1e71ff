// A dashboard: the token manager's dashboard(env), and load(), which the
// runner evaluates for a call step: ask for a token, GET the API with it,
// and once more with a fresh one after a 401.
import * as tm from "/tm.js";

const h = self.__oauthsim;
const env = h.init.page.env;
const status = document.getElementById("status");
const show = (text) => (status.textContent = text + " at " + new Date().toISOString());

// A rejection of accessToken carries its outcome; anything else is an error.
const refused = (e) => ({
  outcome: (e && e.outcome) || "error",
  reason: (e && e.reason) || "",
  detail: (e && (e.detail || e.message)) || String(e),
});

const byStatus = (s) => {
  if (s >= 200 && s < 300) return { outcome: "ok", detail: String(s) };
  if (s === 401) return { outcome: "unauthorized", detail: "401 after one retry" };
  if (s === 429 || s >= 500) return { outcome: "temporary_error", detail: String(s) };
  return { outcome: "error", detail: "the API answered " + s };
};

async function load(manager) {
  let rejected;
  for (let attempt = 0; attempt < 2; attempt++) {
    let token;
    try {
      token = await manager.accessToken(rejected === undefined ? {} : { rejected });
    } catch (e) {
      return refused(e);
    }
    let res;
    try {
      res = await fetch(env.api, { headers: { Authorization: "Bearer " + token } });
    } catch (e) {
      return { outcome: "error", detail: "the API could not be reached: " + e };
    }
    if (res.status !== 401) return byStatus(res.status);
    rejected = token;
  }
  return byStatus(401);
}

try {
  const manager = await tm.dashboard({ ...env, report: (p) => h.report(p) });
  h.load = async () => {
    const r = await load(manager);
    show("dashboard " + h.init.page.n + ": " + r.outcome + " " + (r.detail || ""));
    return r;
  };
  show("dashboard " + h.init.page.n + ": ready");
  h.markReady();
} catch (e) {
  show("dashboard " + h.init.page.n + ": the token manager failed: " + e);
  h.markReady(e);
}
