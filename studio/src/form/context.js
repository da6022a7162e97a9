import { createContext } from 'react';

// The whole input of the form being edited: pick lists resolve their `{"$input": pointer}`
// params against it, wherever they sit in the form.
export const RootData = createContext(undefined);
