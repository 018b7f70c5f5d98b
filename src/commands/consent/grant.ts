import { changeVerb } from './shared.js';

export default changeVerb('grant');
