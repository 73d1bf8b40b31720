/** The RelayDeck version shown by the API and the CLI. Keep in step with package.json. */
export const VERSION = '0.1.0';
