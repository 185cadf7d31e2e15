package web

// closeBrowser stops the browser the tests share, if one was started.
func closeBrowser() {}
