/**
 * Entry point (package.json `main`): importing the function modules registers them with the Functions host.
 * Nothing else runs at import time; clients are built on the first invocation (src/composition.ts).
 */
import './functions/onImagePushed.js';
import './functions/reconcile.js';
import './functions/status.js';
import './functions/dashboard.js';
import './functions/operatorActions.js';
