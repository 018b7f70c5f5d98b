import { changeVerb } from './shared.js';

export default changeVerb('revoke');
