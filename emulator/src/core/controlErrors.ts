/**
 * Errors of the emulator's own control API (`/_emulator/...`): not Azure's, so a plain `{ code, message }` body.
 * Written once here so each service's control routes name a status and a code, not an envelope.
 */
import { EmulatorHttpError } from './errors.js';

export const controlErrors = {
  badRequest: (message: string): EmulatorHttpError =>
    new EmulatorHttpError(400, 'BadRequest', message, 'plain'),
  notFound: (message: string): EmulatorHttpError => new EmulatorHttpError(404, 'NotFound', message, 'plain'),
  conflict: (code: string, message: string): EmulatorHttpError =>
    new EmulatorHttpError(409, code, message, 'plain'),
};
