export { isValidSessionId } from './session-id.js';
