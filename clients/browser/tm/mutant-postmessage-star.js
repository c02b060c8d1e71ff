// mutant-postmessage-star: the reference with one bug, from the field report's
// postMessage advice as it is commonly written: tokens posted with
// targetOrigin "*", so whatever document the dashboard's frame holds gets
// them, and a dashboard that takes a token message from any window of any
// origin, so any page that frames it (or that it frames) can feed it a
// token of its choosing.
//
// Caught by: browser-postmessage-exact-origin (targetOrigin "*" in the
// postMessage log; the probe frame's forged token used by a dashboard).

import { AppManager, DashboardManager } from './reference.js';

class PostStar extends AppManager {
  post(win, msg) {
    win.postMessage(msg, '*');
  }
}

class TrustAnyone extends DashboardManager {
  trusted() {
    return true;
  }

  post(msg) {
    window.parent.postMessage(msg, '*');
  }
}

export async function app(env) {
  return new PostStar(env).start();
}

export async function dashboard(env) {
  return new TrustAnyone(env).start();
}
